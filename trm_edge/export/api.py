"""`export_checkpoint`: checkpoint -> artifact folder for one target, recursion mode and precision."""
from __future__ import annotations

import importlib
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data import PuzzleSet, load_split
from ..data.tasks import spec_for
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..artifact import INIT_STATE_FILE, PARITY_FILE, ArtifactMeta, TensorSpec, staged_folder, write_json, write_meta
from .calibration import step_trajectories, unrolled_samples
from .graphs import (STATEFUL_INPUTS, STATEFUL_OUTPUTS, STATEFUL_STATES, STEP_INPUTS, STEP_OUTPUTS, UNROLLED_INPUTS,
                     UNROLLED_OUTPUTS, StatefulStepGraph, StepGraph, UnrolledGraph, example_stateful_inputs,
                     example_step_inputs, example_unrolled_inputs)
from .parity import parity_report
from .spec import ExportRequest

TARGETS = ("executorch", "coreml", "onnx", "tflite")
RECURSION_MODES = ("step", "unrolled", "loop", "stateful")
PRECISIONS = ("none", "fp16", "int8", "palette4", "palette6")   # palette: Core ML k-means weight palettization
DELEGATES = ("xnnpack", "coreml")   # ExecuTorch backends; coreml: Core ML first, XNNPACK takes what it cannot


@dataclass(frozen=True)
class TargetSupport:
    module: str
    modes: tuple[str, ...]
    quantize: tuple[str, ...]          # internal names: none, fp16, int8 (dynamic), int8-static
    note: str


SUPPORT: dict[str, TargetSupport] = {
    "onnx": TargetSupport("onnx_target", ("step", "unrolled", "loop"), ("none", "fp16", "int8", "int8-static"),
                          "loop: the step graph inside an ONNX Loop with in-graph halting (batch 1)"),
    "executorch": TargetSupport("executorch_target", ("step", "unrolled"), ("none", "fp16", "int8", "int8-static"),
                                "XNNPACK delegate, or --delegate coreml (Core ML first, XNNPACK for the rest); "
                                "int8 through PT2E (XNNPACK) or Core ML weight quantization"),
    "coreml": TargetSupport("coreml_target", ("step", "unrolled", "stateful"), ("none", "fp16", "int8", "palette4", "palette6"),
                            "ML Program; int8 is weight-only (activation calibration needs macOS prediction); "
                            "palette4/6: k-means palettized weights; stateful: y/z kept as Core ML states (iOS 18)"),
    "tflite": TargetSupport("tflite_target", ("step", "unrolled"), ("none", "int8"),
                            "LiteRT via litert-torch in its own environment; int8 is dynamic-range"),
}


class ExportError(ValueError):
    """Bad export request: unknown target, unsupported mode/precision pair, mismatched checkpoint."""


def resolve_quantize(target: str, quantize: str, calibration: int) -> str:
    if target not in SUPPORT:
        raise ExportError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    if quantize not in PRECISIONS:
        raise ExportError(f"unknown --quantize {quantize!r}; choose one of: {', '.join(PRECISIONS)}")
    internal = "int8-static" if quantize == "int8" and calibration > 0 else quantize
    if calibration > 0 and quantize != "int8":
        raise ExportError("--calibration only applies to --quantize int8 (static activation quantization)")
    if internal not in SUPPORT[target].quantize:
        raise ExportError(f"{target} does not support {internal} ({SUPPORT[target].note})")
    return internal


def check_request(target: str, recursion: str, quantize: str, calibration: int, delegate: str = "xnnpack") -> str:
    internal = resolve_quantize(target, quantize, calibration)
    if delegate not in DELEGATES:
        raise ExportError(f"unknown --delegate {delegate!r}; choose one of: {', '.join(DELEGATES)}")
    if delegate != "xnnpack" and target != "executorch":
        raise ExportError(f"--delegate picks an ExecuTorch backend; it does not apply to --target {target}")
    if delegate == "coreml" and internal == "int8-static":
        raise ExportError("executorch with --delegate coreml supports int8 as weight-only quantization "
                          "(Core ML's linear quantizer), not static activations (--calibration)")
    if recursion not in RECURSION_MODES:
        raise ExportError(f"unknown --recursion {recursion!r}; choose one of: {', '.join(RECURSION_MODES)}")
    if recursion not in SUPPORT[target].modes:
        extra = {"loop": "; --recursion loop needs a format with graph loops (onnx)",
                 "stateful": "; --recursion stateful keeps y/z as Core ML states (coreml)"}.get(recursion, "")
        raise ExportError(f"{target} supports --recursion {'/'.join(SUPPORT[target].modes)}, not {recursion} "
                          f"({SUPPORT[target].note}{extra})")
    return internal


def _held_out(ckpt: Checkpoint, data_path: str | None, split: str, limit: int) -> PuzzleSet | None:
    spec = spec_for((ckpt.info or {}).get("data_spec"), ckpt.data_meta.task if ckpt.data_meta else None, data_path)
    if spec is None:
        return None
    data = load_split(spec, split)
    if data.meta.seq_len != ckpt.config.seq_len or data.meta.vocab_size > ckpt.config.vocab_size:
        raise ExportError(f"data has seq_len {data.meta.seq_len}/vocab {data.meta.vocab_size}, the checkpoint "
                          f"expects {ckpt.config.seq_len}/{ckpt.config.vocab_size}")
    return data.subset(slice(0, limit))


def export_checkpoint(checkpoint: str | Path, target: str, out: str | Path, recursion: str = "step",
                      quantize: str = "none", calibration: int = 0, batch: int = 1, parity_puzzles: int = 200,
                      data_path: str | None = None, overwrite: bool = False, ort_format: bool = False,
                      official_config: str | None = None, delegate: str = "xnnpack",
                      log: Callable[[str], None] = print) -> Path:
    """Export and check one artifact. Nothing is left at `out` if any stage fails."""
    internal = check_request(target, recursion, quantize, calibration, delegate)
    if batch < 1:
        raise ExportError("--batch must be >= 1")
    if ort_format and target != "onnx":
        raise ExportError(f"--ort (ORT mobile format) only applies to --target onnx, not {target}")
    if recursion == "loop" and batch != 1:
        raise ExportError("--recursion loop halts the whole batch at once, so it needs --batch 1")
    ckpt = load_checkpoint(checkpoint, official_config)
    model = ckpt.build_model().float().eval()
    cfg = ckpt.config
    if recursion in ("step", "loop"):   # loop: the step graph, wrapped in a graph loop by the exporter
        graph, example = StepGraph(model).eval(), example_step_inputs(model, batch)
        in_names, out_names = STEP_INPUTS, STEP_OUTPUTS
    elif recursion == "stateful":
        graph, example = StatefulStepGraph(model, batch).eval(), example_stateful_inputs(model, batch)
        in_names, out_names = STATEFUL_INPUTS, STATEFUL_OUTPUTS
    else:
        graph, example = UnrolledGraph(model, cfg.halt_max_steps).eval(), example_unrolled_inputs(model, batch)
        in_names, out_names = UNROLLED_INPUTS, UNROLLED_OUTPUTS
    with torch.no_grad():
        example_out = graph(*example)
        if recursion == "stateful":   # the example call wrote the state buffers; start them at zero again
            graph.y_state.zero_()
            graph.z_state.zero_()

    def calibration_samples() -> list[dict[str, np.ndarray]]:
        data = _held_out(ckpt, data_path, "train", 10_000)
        if data is None:
            raise ExportError("static int8 needs calibration puzzles: the checkpoint names no dataset; pass --data-path")
        if recursion in ("step", "loop", "stateful"):
            return step_trajectories(model, data, calibration, batch)
        return unrolled_samples(data, calibration, batch)

    in_specs = [TensorSpec(n, list(t.shape), _dtype(t)) for n, t in zip(in_names, example)]
    out_specs = [TensorSpec(n, list(t.shape), _dtype(t)) for n, t in zip(out_names, example_out)]
    if recursion == "loop":   # the artifact's own interface: tokens in, final logits and per-step q_halt out
        in_specs = in_specs[:2]
        out_specs = [out_specs[2], TensorSpec("q_halt", [batch, -1], "float32")]

    req = ExportRequest(graph, example, in_names, out_names, recursion, internal, calibration_samples, ort_format, log,
                        delegate)
    exporter = importlib.import_module(f".{SUPPORT[target].module}", __package__)
    out = Path(out)
    state_shape = [batch, cfg.total_len, cfg.hidden_size]
    with staged_folder(out, overwrite) as folder:
        log(f"exporting {target} ({recursion}, {internal}) ...")
        result = exporter.export(req, folder)
        np.concatenate([model.H_init.float().numpy(), model.L_init.float().numpy()]).astype("<f4").tofile(
            folder / INIT_STATE_FILE)
        meta = ArtifactMeta(
            target=target, recursion=recursion, quantize=internal, model_file=result.model_file,
            task=ckpt.data_meta.task if ckpt.data_meta else "unknown",
            vocab_size=cfg.vocab_size, seq_len=cfg.seq_len,
            grid_shape=list(ckpt.data_meta.grid_shape) if ckpt.data_meta and ckpt.data_meta.grid_shape else None,
            hidden_size=cfg.hidden_size, state_shape=state_shape,
            prefix_len=cfg.prefix_len, H_cycles=cfg.H_cycles, L_cycles=cfg.L_cycles,
            halt_max_steps=cfg.halt_max_steps,
            halting={"rule": "stop a puzzle once q_halt > 0, else after halt_max_steps steps",
                     "official_eval": "always halt_max_steps steps"},
            inputs=in_specs, outputs=out_specs,
            batch=batch, source_checkpoint=str(checkpoint), source_sha256=ckpt.sha256 or "",
            tool_versions={"torch": torch.__version__, "python": platform.python_version(), **result.tool_versions},
            token_codec=_codec(ckpt), extra={"notes": result.notes, **result.extra, **_state_note(recursion, state_shape)},
        )
        write_meta(folder, meta)
        log("checking parity against PyTorch ...")
        data = _held_out(ckpt, data_path, "test", parity_puzzles)
        report = parity_report(folder, model, data, internal)
        write_json(folder / PARITY_FILE, report)
    return out


def _state_note(recursion: str, state_shape: list[int]) -> dict:
    if recursion != "stateful":
        return {}
    return {"states": [{"name": n, "shape": state_shape, "dtype": "float16"} for n in STATEFUL_STATES],
            "stateful_use": "make one state per puzzle batch; call with reset=1 on the first step and 0 after; "
                            "stop a row once q_halt > 0"}


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).replace("torch.", "")


def _codec(ckpt: Checkpoint) -> dict:
    task = ckpt.data_meta.task if ckpt.data_meta else "unknown"
    if task == "sudoku":
        return {"pad": 0, "blank": 1, "digit_token": "digit + 1"}
    if task == "maze":
        return {"pad": 0, "charset": "# SGo", "char_token": "index in charset + 1"}
    if task == "arc":
        return {"pad": 0, "eos": 1, "colour_token": "colour + 2", "canvas": 30}
    return {}
