"""ORT Mobile checks for an exported ONNX model: `.ort` conversion and the mobile-usability report.

The report is what `python -m onnxruntime.tools.check_onnx_model_mobile_usability` prints, kept as data:
for each mobile execution provider (NNAPI, Core ML NeuralNetwork, Core ML MLProgram), how many nodes it
could take, in how many partitions, which ops it cannot take, and ORT's verdict (YES / MAYBE / NO) on
whether that EP should beat the plain CPU EP.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..subproc import python_command

EPS = ("NNAPI", "CoreML NeuralNetwork", "CoreML MLProgram")


def mobile_usability(path: Path) -> dict[str, Any]:
    """Partitioning of the model (optimized to BASIC level, as `.ort` conversion does) for each mobile EP."""
    from onnxruntime.tools.mobile_helpers import usability_checker as uc
    from onnxruntime.tools.onnx_model_utils import ModelProtoWithShapeInfo, optimize_model

    checks = {
        "NNAPI": lambda m: uc.check_nnapi_partitions(m, True),
        "CoreML NeuralNetwork": lambda m: uc.check_coreml_partitions(m, True, "coreml_supported_neuralnetwork_ops.md"),
        "CoreML MLProgram": lambda m: uc.check_coreml_partitions(m, True, "coreml_supported_mlprogram_ops.md"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        optimized = Path(tmp) / path.name
        optimize_model(path, optimized, use_external_initializers=True)
        model = ModelProtoWithShapeInfo(optimized.resolve()).model_with_shape_info
        report: dict[str, Any] = {}
        for ep, check in checks.items():
            info = check(model)
            report[ep] = {
                "nodes": info.num_nodes,
                "supported_nodes": info.num_supported_nodes,
                "partitions": info.num_partitions,
                "unsupported_ops": sorted(info.unsupported_ops),
                "verdict": info.suitability().name,
            }
    best = max((r["verdict"] for r in report.values()), key=["NO", "MAYBE", "YES"].index)
    report["recommendation"] = ("CPU EP: no mobile accelerator EP is expected to help" if best == "NO" else
                                "compare the NNAPI / Core ML EPs against the CPU EP on the phone")
    return report


def summary_line(report: dict[str, Any]) -> str:
    parts = [f"{ep} {r['supported_nodes']}/{r['nodes']} nodes in {r['partitions']} partitions ({r['verdict']})"
             for ep, r in report.items() if ep in EPS]
    return "ORT mobile usability: " + "; ".join(parts) + f"; use the {report['recommendation']}"


def convert_to_ort(path: Path) -> Path:
    """Write `<name>.ort` beside `path`: ORT's flatbuffer format for the minimal mobile runtime, optimized
    ahead of time for the CPU EP on ARM (the "Fixed" style ORT recommends when no NNAPI/Core ML EP is used)."""
    out = subprocess.run(python_command("onnxruntime.tools.convert_onnx_models_to_ort",
                                        [path, "--optimization_style", "Fixed", "--target_platform", "arm"]),
                         capture_output=True, text=True)
    ort_path = path.with_suffix(".ort")
    if out.returncode != 0 or not ort_path.is_file():
        raise RuntimeError(f"ORT format conversion failed: {(out.stderr or out.stdout)[-800:]}")
    for extra in path.parent.glob(f"{path.stem}*.required_operators*.config"):
        extra.unlink()   # build configs for a reduced-op ORT build; not part of the artifact
    return ort_path
