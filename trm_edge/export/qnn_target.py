"""QNN export: the fp32 ONNX step graph (quantized to QDQ for w8a16 / w8a8), compiled by ONNX Runtime's QNN
execution provider into an EPContext model and a QNN context binary for each SoC asked for."""
from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import numpy as np

from ..quiet import native_output_captured
from .calibration import sample_reader
from ..targets.base import RequestError
from ..targets.qnn import DEFAULT_SOC, Soc, session_options, socs_of, weights_kept_16bit
from .onnx_passes import fold_weight_transposes, fuse_rms_norms, name_weights_like
from .onnx_target import dedupe_initializers, write_fp32
from .spec import ExportRequest, ExportResult

# (weights, activations) per quantized precision; weights symmetric with one scale per output channel (QNN's QDQ
# helpers pick the rest per op). On the 9x9 model in the HTP simulator (results/qnn-w8a16), w8a16 keeps PyTorch's
# accuracy on minimal puzzles; its per-layer error table is results/qnn-sensitivity.
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
    matrices = {k: v.detach().numpy() for k, v in req.graph.state_dict().items() if v.ndim == 2}
    notes += _prepare_graph(source, matrices)
    if req.quantize in QDQ_TYPES:
        source = _quantize_or_explain(req, source, work)
        weights, activations = (t.removeprefix("Q").removeprefix("U").lower() for t in QDQ_TYPES[req.quantize])
        kept = weights_kept_16bit(req.options.get("w16-weights"))
        notes.append(f"{req.quantize}: {weights} weights (one scale per output channel"
                     + (f"; 16-bit where a name contains {', '.join(kept)}" if kept else "")
                     + f") and {activations} activations (QDQ), ranges calibrated on step inputs taken along real "
                     "y/z trajectories")
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


def _prepare_graph(path: Path, weights: dict[str, np.ndarray]) -> list[str]:
    """Weights as constants and one RMS-norm op per norm, in place; notes.

    Folded weight Transposes make every weight an initializer, which the quantizer stores as int8 (behind a
    Transpose it was quantized as an activation). Fused norms (see onnx_passes.fuse_rms_norms): the HTP keeps
    the squares inside its kernel, where decomposed they overflow fp16 (the 9x9 model's pre-norm activations
    reach ~250) or need more range than 8/16-bit activations have (9x9 first step, w8a16 y error 1.27 -> 0.06)."""
    import onnx

    model = fold_weight_transposes(onnx.load(str(path)))
    merged = dedupe_initializers(model)   # each folded use of a shared weight is one more copy
    name_weights_like(model, weights)   # the error table and --w16-weights name layers, not val_N
    fused = fuse_rms_norms(model)
    for opset in model.opset_import:   # 16-bit QDQ needs opset 21; the ops here mean the same in 20 and 21
        if opset.domain in ("", "ai.onnx"):
            opset.version = max(opset.version, 21)
    onnx.save(model, str(path))
    return [f"weight Transposes folded into the weights ({merged} duplicate copies merged)",
            f"{fused} RMS norms fused into SimplifiedLayerNormalization (the same function; no overflow in fp16)"]


def _quantize(req: ExportRequest, fp32: Path, work: Path) -> Path:
    """A QDQ model with ONNX Runtime's QNN quantization helpers, calibrated on real step inputs."""
    from onnxruntime.quantization.execution_providers.qnn import qnn_preprocess_model

    pre = work / "pre.onnx"
    source = pre if qnn_preprocess_model(str(fp32), str(pre)) else fp32
    plan = QdqPlan(req.quantize, weights_kept_16bit(req.options.get("w16-weights")))
    return quantize_qdq(source, work / "qdq.onnx", req.calibration, plan)


@dataclass(frozen=True)
class QdqPlan:
    """How a QDQ graph stores its weights: the precision's types, one scale per output channel (per tensor only
    for the error table's yardstick), and the weights whose names contain a part of `w16` kept 16-bit."""

    precision: str
    w16: tuple[str, ...] = ()
    per_channel: bool = True


def quantize_qdq(source: Path, out: Path, samples: Callable[[], list[dict]], plan: QdqPlan) -> Path:
    """`source` quantized to QDQ by ONNX Runtime's QNN helpers, ranges calibrated on `samples()` (asked for once
    the plan's 16-bit list is known to name weights of the graph, so a bad list is refused before that work).

    Per-channel weight scales: measured on the 9x9 model's step in the HTP simulator, w8a16's error against fp32
    falls from 1.6% to 1.2% of y (16-bit activations alone: 0.5%; results/qnn-sensitivity)."""
    from onnxruntime.quantization import QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

    weights, activations = (getattr(QuantType, t) for t in QDQ_TYPES[plan.precision])
    axes = weight_axes_of(source, plan)
    overrides = {}
    for name, axis in axes.items():
        entry = {"axis": axis} if plan.per_channel else {}
        if any(part in name for part in plan.w16):
            entry["quant_type"] = QuantType.QInt16
        if entry:
            overrides[name] = [entry]
    config = get_qnn_qdq_config(str(source), sample_reader(samples()), activation_type=activations,
                                weight_type=weights, weight_symmetric=True, init_overrides=overrides or None)
    quantize(str(source), str(out), config)
    return out


def weight_axes_of(source: Path, plan: QdqPlan) -> dict[str, int]:
    """The graph's weights and their axes (`weight_axes`), once every part of the plan's 16-bit list names one."""
    import onnx

    axes = weight_axes(onnx.load(str(source)))
    unknown = [part for part in plan.w16 if not any(part in name for name in axes)]
    if unknown:
        raise RequestError(f"--w16-weights {', '.join(unknown)} names no weight of this graph; its weights: "
                           + ", ".join(sorted(axes)))
    return axes


def weight_axes(model) -> dict[str, int]:
    """Each MatMul/Gemm weight of the graph -> its output-channel axis (the one a per-channel scale runs along)."""
    inits = {i.name: len(i.dims) for i in model.graph.initializer}
    axes = {}
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Gemm") and len(node.input) > 1 and inits.get(node.input[1]) == 2:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            axes[node.input[1]] = 0 if trans_b else 1
    return axes


def _quantize_or_explain(req: ExportRequest, fp32: Path, work: Path) -> Path:
    try:
        return _quantize(req, fp32, work)
    except RequestError:
        raise
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
