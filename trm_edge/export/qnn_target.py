"""QNN export: the fp32 ONNX step graph (quantized to QDQ for w8a16 / w8a8), compiled by ONNX Runtime's QNN
execution provider into an EPContext model and a QNN context binary for each SoC asked for."""
from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from ..quiet import native_output_captured
from .calibration import sample_reader
from ..targets.qnn import DEFAULT_SOC, Soc, session_options, socs_of
from .onnx_passes import fold_weight_transposes, fuse_rms_norms
from .onnx_target import dedupe_initializers, write_fp32
from .spec import ExportRequest, ExportResult

# (weights, activations) per quantized precision; weights symmetric (QNN's QDQ helpers pick the rest per op).
# Measured on the 9x9 model in the HTP simulator (results/qnn): only 16-bit weights keep PyTorch's accuracy.
QDQ_TYPES = {"w16a16": ("QInt16", "QUInt16"), "w8a16": ("QInt8", "QUInt16"), "w8a8": ("QInt8", "QUInt8")}


SOURCE_FILE = "source.onnx"   # the graph the binaries were compiled from (ORT can compile it on any other SoC)


class PartialOffload(RuntimeError):
    """A SoC whose HTP cannot run every node of the graph (and CPU fallback was not allowed)."""

    def __init__(self, chip: Soc, precision: str, nodes: int, on_cpu: dict[str, int]) -> None:
        self.on_cpu, self.nodes = on_cpu, nodes
        super().__init__(f"{chip.name} (HTP v{chip.htp_arch}) cannot run {sum(on_cpu.values())} of {nodes} nodes of "
                         f"the {precision} graph ({', '.join(f'{n} {op}' for op, n in on_cpu.items())}): choose "
                         "another --quantize or --soc, or pass --allow-cpu-fallback to keep them on the CPU")


@dataclass
class Compiled:
    """One SoC's compiled model and where the graph's nodes went."""

    soc: Soc
    model: str
    binary: str
    seconds: float
    binary_bytes: int
    nodes: int
    on_cpu: dict[str, int]

    def to_dict(self) -> dict:
        return {"chip": self.soc.chip, "soc_model": self.soc.soc_model, "htp_arch": self.soc.htp_arch,
                "model": self.model, "binary": self.binary, "compile_seconds": round(self.seconds, 3),
                "binary_bytes": self.binary_bytes, "graph_nodes": self.nodes,
                "nodes_on_htp": self.nodes - sum(self.on_cpu.values()), "nodes_on_cpu": self.on_cpu}


def export(req: ExportRequest, folder: Path) -> ExportResult:
    chosen = socs_of(req.options.get("soc") or DEFAULT_SOC)
    fallback = bool(req.options.get("allow-cpu-fallback"))
    work = folder / "_source"
    work.mkdir()
    notes = write_fp32(req, work / "fp32.onnx")
    source = work / "fp32.onnx"
    notes += _prepare_graph(source)
    if req.quantize in QDQ_TYPES:
        source = _quantize_or_explain(req, source, work)
        weights, activations = (t.removeprefix("Q").removeprefix("U").lower() for t in QDQ_TYPES[req.quantize])
        notes.append(f"{req.quantize}: {weights} weights and {activations} activations (QDQ), "
                     f"ranges calibrated on step inputs taken along real y/z trajectories")
    else:
        notes.append("fp16: the fp32 graph, run in the HTP's fp16 arithmetic")
    compiled = [compile_for(source, folder, chip, req.quantize, fallback) for chip in chosen]
    shutil.move(source, folder / SOURCE_FILE)
    shutil.rmtree(work)
    for c in compiled:
        where = (f"{c.nodes} of {c.nodes} graph nodes on the HTP" if not c.on_cpu else
                 f"{c.nodes - sum(c.on_cpu.values())} of {c.nodes} nodes on the HTP, on the CPU: "
                 + ", ".join(f"{n} {op}" for op, n in c.on_cpu.items()))
        notes.append(f"{c.soc.name} ({c.soc.chip}, HTP v{c.soc.htp_arch}): {where}; context binary "
                     f"{c.binary_bytes / 1024:.0f} KB, compiled in {c.seconds:.1f} s")
        req.log(notes[-1])
    import onnxruntime_qnn

    extra = {"qnn": {"precision": req.quantize, "qnn_sdk": onnxruntime_qnn.build_and_package_info.qnn_version,
                     "source": SOURCE_FILE,
                     "allow_cpu_fallback": fallback, "simulated": True,
                     "socs": {c.soc.name: c.to_dict() for c in compiled}}}
    versions = {"onnxruntime": version("onnxruntime"), "onnxruntime-qnn": version("onnxruntime-qnn"),
                "qnn-sdk": onnxruntime_qnn.build_and_package_info.qnn_version}
    return ExportResult(model_file=compiled[0].model, notes=notes, tool_versions=versions, extra=extra)


def _prepare_graph(path: Path) -> list[str]:
    """Weights as constants and one RMS-norm op per norm, in place; notes.

    Folded weight Transposes make every weight an initializer, which the quantizer stores as int8 (behind a
    Transpose it was quantized as an activation). Fused norms (see onnx_passes.fuse_rms_norms): the HTP keeps
    the squares inside its kernel, where decomposed they overflow fp16 (the 9x9 model's pre-norm activations
    reach ~250) or need more range than 8/16-bit activations have (9x9 first step, w8a16 y error 1.27 -> 0.06)."""
    import onnx

    model = fold_weight_transposes(onnx.load(str(path)))
    merged = dedupe_initializers(model)   # each folded use of a shared weight is one more copy
    fused = fuse_rms_norms(model)
    for opset in model.opset_import:   # 16-bit QDQ needs opset 21; the ops here mean the same in 20 and 21
        if opset.domain in ("", "ai.onnx"):
            opset.version = max(opset.version, 21)
    onnx.save(model, str(path))
    return [f"weight Transposes folded into the weights ({merged} duplicate copies merged)",
            f"{fused} RMS norms fused into SimplifiedLayerNormalization (the same function; no overflow in fp16)"]


def _quantize(req: ExportRequest, fp32: Path, work: Path) -> Path:
    """A QDQ model with ONNX Runtime's QNN quantization helpers, calibrated on real step inputs."""
    from onnxruntime.quantization import QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config, qnn_preprocess_model

    samples = req.calibration()
    pre = work / "pre.onnx"
    source = pre if qnn_preprocess_model(str(fp32), str(pre)) else fp32
    weights, activations = (getattr(QuantType, t) for t in QDQ_TYPES[req.quantize])
    config = get_qnn_qdq_config(str(source), sample_reader(samples), activation_type=activations,
                                weight_type=weights, weight_symmetric=True)
    out = work / "qdq.onnx"
    quantize(str(source), str(out), config)
    return out


def _quantize_or_explain(req: ExportRequest, fp32: Path, work: Path) -> Path:
    try:
        return _quantize(req, fp32, work)
    except (ValueError, KeyError, RuntimeError) as exc:   # ONNX Runtime's QNN quantization helpers on this graph
        raise RuntimeError(f"ONNX Runtime's QNN quantization ({req.quantize}) failed on this model's graph: "
                           f"{str(exc).splitlines()[0][:200]}; --quantize fp16 compiles without it") from None


def compile_for(source: Path, folder: Path, chip: Soc, precision: str, fallback: bool) -> Compiled:
    """Compile for one SoC into folder/<soc>/model.onnx + model_qnn.bin; a partial offload without
    --allow-cpu-fallback is a PartialOffload naming the ops that would stay on the CPU."""
    import onnx
    import onnxruntime as ort

    out_dir = folder / chip.name
    out_dir.mkdir()
    nodes = len(onnx.load(str(source)).graph.node)
    t0 = time.perf_counter()
    try:
        with native_output_captured():
            ort.ModelCompiler(session_options(chip, precision, fallback), str(source),
                              embed_compiled_data_into_model=False).compile_to_file(str(out_dir / "model.onnx"))
    except Exception as exc:  # noqa: BLE001 - ORT raises its own Fail type for a partial offload
        if fallback or "fallback to CPU EP has been explicitly disabled" not in str(exc):
            raise RuntimeError(f"QNN compilation for {chip.name} failed: {str(exc).splitlines()[0][:300]}") from None
        shutil.rmtree(out_dir)
        stayed = compile_for(source, folder, chip, precision, True).on_cpu
        shutil.rmtree(out_dir)
        raise PartialOffload(chip, precision, nodes, stayed) from None
    seconds = time.perf_counter() - t0
    compiled = onnx.load(str(out_dir / "model.onnx"))
    on_cpu = Counter(n.op_type for n in compiled.graph.node if n.op_type != "EPContext")
    binaries = sorted(p.name for p in out_dir.iterdir() if p.suffix == ".bin")
    if len(binaries) != 1:
        raise RuntimeError(f"QNN compilation for {chip.name} wrote {len(binaries)} context binaries, expected 1")
    return Compiled(chip, f"{chip.name}/model.onnx", f"{chip.name}/{binaries[0]}", seconds,
                    (out_dir / binaries[0]).stat().st_size, nodes, dict(on_cpu))
