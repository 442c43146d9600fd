"""`export_checkpoint`: checkpoint -> artifact folder for one target, recursion mode and precision."""
from __future__ import annotations

import platform
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..data import PuzzleSet
from ..datasets import held_out, load_split
from ..recursion import GraphKind, mode as recursion_mode
from ..recursion.net import NetProgram
from ..recursion.stateful import ModelStates
from ..tasks import get_task
from .exporters import exporter_for
from ..datasets.splits import parse_band, spec_for
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..model.trm import TRM
from ..budget import BUDGET
from ..files import stage_history
from ..progress import silent, stage
from ..settings import INFO_KEY, choose
from ..artifact import (INIT_STATE_FILE, PARITY_FILE, ArtifactMeta, TensorSpec, check_destination, recorded_source,
                        staged_folder,
                        write_json, write_meta)
from .calibration import step_trajectories, unrolled_samples
from .naming import default_folder
from .int4_gptq import calibrated_int4
from .graphs import NET_METHODS, STATEFUL_STATES, build_graph, net_call_graphs
from .parity import parity_report
from .spec import INT4_BLOCK, ExportRequest
from .. import targets
from ..targets import RECURSION_MODES, RequestError, Target
from ..targets.precision import Precision, internal as internal_precision


class ExportError(ValueError):
    """Bad export request: unknown target, unsupported mode/precision pair, mismatched checkpoint."""


DEFAULT_CALIBRATION = 256   # step inputs for the precisions that must be calibrated (w16a16, w8a16, w8a8)
DEFAULT_INT4_CALIBRATION = 4096   # step inputs whose layer inputs GPTQ keeps close (256 puzzles at 16 steps)


def resolve_quantize(quantize: str, calibration: int) -> str:
    """The precision's internal name: int8 with calibration samples is static int8."""
    asked = [p.value for p in Precision if p.asked_for]
    if quantize not in asked:
        raise ExportError(f"unknown --quantize {quantize!r}; choose one of: {', '.join(asked)}")
    precision = Precision(quantize)
    if calibration > 0 and not (precision in (Precision.INT8, Precision.INT4) or precision.calibrated):
        raise ExportError("--calibration only applies to --quantize int8, w16a16, w8a16 and w8a8 (static "
                          "activation quantization) and int4 (GPTQ's step inputs)")
    return internal_precision(quantize, calibration).value


def check_request(target: str, recursion: str, quantize: str, calibration: int,
                  options: dict[str, Any] | None = None) -> tuple[Target, str]:
    """(the target, the internal precision) for a request every part of which the target supports."""
    try:
        spec = targets.get(target)
        internal = resolve_quantize(quantize, calibration)
        if recursion not in RECURSION_MODES:
            raise ExportError(f"unknown --recursion {recursion!r}; choose one of: {', '.join(RECURSION_MODES)}")
        own = {o.name for o in spec.options}
        for name, value in (options or {}).items():
            if name not in own and value not in (None, False):   # None / False: the user did not ask for it
                takers = targets.options_by_name().get(name, [])
                raise ExportError(f"--{name} does not apply to --target {target}"
                                  + (f" (only to {', '.join(takers)})" if takers else ""))
        if recursion not in spec.modes:
            offered = [t.name for t in targets.all_targets().values() if recursion in t.modes]
            raise ExportError(f"{target} supports --recursion {'/'.join(spec.modes)}, not {recursion} "
                              f"(--recursion {recursion} is offered by {', '.join(offered)}; {spec.note})")
        spec.check_request(recursion, internal, options or {})
    except RequestError as exc:
        raise ExportError(str(exc)) from None
    return spec, internal


def _held_out(ckpt: Checkpoint, data_path: str | None, split: str, limit: int,
              band: str | None = None) -> PuzzleSet | None:
    """The first `limit` puzzles of a split, or (`band`) held-out generated puzzles of one difficulty."""
    spec = spec_for((ckpt.info or {}).get("data_spec"), ckpt.data_meta.task if ckpt.data_meta else None, data_path)
    if spec is None:
        return None
    data = held_out(spec, limit, band) if band else load_split(spec, split)
    ckpt.check_fits(data.meta, "the parity and calibration puzzles")
    return data.subset(slice(0, limit))


@dataclass
class ExportJob:
    """One export: which checkpoint, for which target, where to, and how. `options` are the target's own
    (e.g. {"ort": True} for onnx, {"delegate": "coreml"} for executorch; see `trm-edge export --list-targets`);
    `quantize` None is the target's default precision and `parity_puzzles` None its default parity size."""

    checkpoint: str | Path
    target: str
    out: str | Path | None = None               # None: artifacts/<model>-<target>-... (export/naming.py)
    recursion: str = "step"
    quantize: str | None = None
    calibration: int = 0
    batch: int = 1
    parity_puzzles: int | None = None
    parity_band: str | None = None              # parity on generated puzzles of one difficulty ('minimal', '30-36')
    data_path: str | None = None
    overwrite: bool = False
    official_config: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = silent
    h_cycles: int | None = None                 # inference-time depth (None: the trained T / n)
    l_cycles: int | None = None

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the export reads: never deleted by --overwrite."""
        return tuple(Path(p) for p in (self.checkpoint, self.data_path, self.official_config) if p)


@dataclass
class ModeGraphs:
    """The graph a recursion mode exports, its example call, tensor names, and the interface an app sees."""

    graph: torch.nn.Module
    example: tuple
    in_names: tuple
    out_names: tuple
    in_specs: list[TensorSpec]
    out_specs: list[TensorSpec]
    methods: dict


def export_checkpoint(checkpoint: str | Path, target: str, out: str | Path | None = None, **how: Any) -> Path:
    """Export and check one artifact; `how` is any other field of ExportJob, by name (recursion, quantize,
    parity_puzzles, options, log, ...). Nothing is left at `out` if any stage fails."""
    return run_export(ExportJob(checkpoint, target, out, **how))


def run_export(job: ExportJob) -> Path:
    try:
        quantize = job.quantize or targets.get(job.target).default_precision
    except RequestError as exc:
        raise ExportError(str(exc)) from None
    target_spec, internal = check_request(job.target, job.recursion, quantize, job.calibration, job.options)
    parity_puzzles = target_spec.parity_puzzles if job.parity_puzzles is None else job.parity_puzzles
    if job.batch < 1:
        raise ExportError("--batch must be >= 1")
    if recursion_mode(job.recursion).batch_one and job.batch != 1:
        raise ExportError(f"--recursion {job.recursion} halts the whole batch at once, so it needs --batch 1")
    if job.parity_band:
        try:
            parse_band(job.parity_band)
        except ValueError as exc:
            raise ExportError(f"--parity-band: {exc}") from None
    ckpt, depth_named = _at_chosen_depth(load_checkpoint(job.checkpoint, job.official_config), job)
    c = ckpt.config
    if job.out is None:
        job = replace(job, out=default_folder(Path(job.checkpoint), job.target, job.recursion, internal, job.options,
                                              (c.H_cycles, c.L_cycles) if depth_named else None))
    check_destination(Path(job.out), job.overwrite, job.inputs)
    BUDGET.check_graph(c.H_cycles, c.L_cycles)
    BUDGET.check_net_calls(parity_puzzles, c.halt_max_steps, c.H_cycles, c.L_cycles, what="this export's parity check")
    model = ckpt.build_model().float().eval()
    shipped, int4_note = _int4_weights(job, ckpt, model, internal, target_spec)
    graphs = _mode_graphs(shipped, job.recursion, job.batch)
    req = ExportRequest(graphs.graph, graphs.example, graphs.in_names, graphs.out_names, job.recursion, internal,
                        lambda: _calibration_samples(job, ckpt, model), job.log, dict(job.options), graphs.methods)
    with staged_folder(Path(job.out), job.overwrite, job.inputs, job.log) as folder:
        job.log(f"exporting {job.target} ({job.recursion}, {internal}) ...")
        with stage(f"exporting {job.target}", _stage_key(job, internal, model), stage_history()):
            result = exporter_for(job.target)(req, folder)
        np.concatenate([model.H_init.float().numpy(), model.L_init.float().numpy()]).astype("<f4").tofile(
            folder / INIT_STATE_FILE)
        if int4_note:
            result.notes.append(int4_note)
        write_meta(folder, _artifact_meta(job, ckpt, internal, graphs, result))
        if parity_puzzles == 0:
            report = {"status": "skipped", "reason": "not asked for: --parity-puzzles 0"}
        else:
            job.log("checking parity against PyTorch ...")
            report = parity_report(folder, model, _held_out(ckpt, job.data_path, "test", parity_puzzles,
                                                            job.parity_band), internal)
            report["judged_on"] = f"{job.parity_band} puzzles" if job.parity_band else "the test split"
        write_json(folder / PARITY_FILE, report)
    return Path(job.out)


def _stage_key(job: ExportJob, internal: str, model) -> str:
    """What decides a conversion's time: target, mode, precision, batch and the model's size and depth."""
    size = sum(p.numel() for p in model.parameters()) // 100_000
    c = model.config
    return f"export {job.target} {job.recursion} {internal} b{job.batch} {size}e5 T{c.H_cycles}n{c.L_cycles}"


def _mode_graphs(model, recursion: str, batch: int) -> ModeGraphs:
    """The graph each recursion mode exports (loop: the step, wrapped in a graph loop by the exporter; net: the
    step the host composes, plus its embed / net / heads methods)."""
    mode = recursion_mode(recursion)
    methods = net_call_graphs(model, batch) if mode.net_methods else {}
    built = build_graph(mode.graph, model, batch)
    with torch.no_grad():
        example_out = built.module(*built.example)
        if mode.state_in_graph:   # the example call wrote the state buffers; start them at zero again
            for name in STATEFUL_STATES:
                getattr(built.module, name).zero_()
    in_specs, out_specs = _specs(built.in_names, built.example), _specs(built.out_names, example_out)
    if mode.graph_halts:   # its own interface: tokens in, final logits and every q_halt out
        in_specs = in_specs[:2]
        out_specs = [out_specs[2], TensorSpec("q_halt", [batch, -1], "float32")]
    return ModeGraphs(built.module, built.example, built.in_names, built.out_names, in_specs, out_specs, methods)


def _int4_weights(job: ExportJob, ckpt: Checkpoint, model: TRM, internal: str, target: Target) -> tuple[TRM, str]:
    """The model whose weights the graphs carry: for int4, GPTQ's choice on the target's own 4-bit grid,
    calibrated on training puzzles (export/int4_gptq.py); otherwise the model itself. Parity still compares
    against the model as trained."""
    if internal != Precision.INT4:
        return model, ""
    if target.int4_grid is None:
        if job.calibration:
            raise ExportError(f"{target.name} int4 is not calibrated (GPTQ needs the runtime's 4-bit grid, which "
                              "trm-edge knows for onnx and executorch): drop --calibration")
        return model, ""
    data = calibration_puzzles(ckpt, job.data_path)
    if data is None:
        return model, "int4 weights rounded to nearest (no calibration puzzles: the checkpoint names no dataset)"
    steps = job.calibration or DEFAULT_INT4_CALIBRATION
    puzzles = -(-steps // model.config.halt_max_steps)
    job.log(f"choosing int4 weights (GPTQ on {puzzles} training puzzles' trajectories) ...")
    calibrated = calibrated_int4(model, data, puzzles, target.int4_grid, INT4_BLOCK)
    return calibrated, (f"int4 weights chosen by GPTQ on the layer inputs of {puzzles} training puzzles at every "
                        f"supervision step ({puzzles * model.config.halt_max_steps} step inputs), on the runtime's "
                        "own 4-bit grid")


def calibration_puzzles(ckpt: Checkpoint, data_path: str | None = None) -> PuzzleSet | None:
    """The training puzzles whose y/z trajectories every calibrated precision is calibrated on (None: the
    checkpoint names no dataset and no --data-path was given)."""
    return _held_out(ckpt, data_path, "train", 10_000)


def _calibration_samples(job: ExportJob, ckpt: Checkpoint, model) -> list[dict[str, np.ndarray]]:
    data = calibration_puzzles(ckpt, job.data_path)
    if data is None:
        raise ExportError("static int8 needs calibration puzzles: the checkpoint names no dataset; pass --data-path")
    count = job.calibration or DEFAULT_CALIBRATION
    if recursion_mode(job.recursion).graph is GraphKind.UNROLLED:
        return unrolled_samples(data, count, job.batch)   # unrolled: whole-recursion inputs
    return step_trajectories(model, data, count, job.batch)


def _at_chosen_depth(ckpt: Checkpoint, job: ExportJob) -> tuple[Checkpoint, bool]:
    """The depth the graphs bake in: the options, else the depth the checkpoint's recorded settings name; and
    whether either named one (the default folder then carries it)."""
    chosen = choose(ckpt.settings, job.h_cycles, job.l_cycles)
    from_model = bool({"h_cycles", "l_cycles"} & set(chosen.from_model))
    if from_model:
        job.log(f"exporting at the model's recorded depth T={chosen.h_cycles}, n={chosen.l_cycles} "
                "(--h-cycles / --l-cycles override it)")
    named = from_model or job.h_cycles is not None or job.l_cycles is not None
    return ckpt.at_depth(chosen.h_cycles, chosen.l_cycles), named


def _recorded_settings(ckpt: Checkpoint) -> dict:
    """The checkpoint's recorded settings an app runs the artifact with (the depth is baked into the graphs)."""
    if ckpt.settings is None:
        return {}
    return {INFO_KEY: replace(ckpt.settings, h_cycles=None, l_cycles=None).to_dict()}


def _artifact_meta(job: ExportJob, ckpt: Checkpoint, internal: str, graphs: ModeGraphs, result) -> ArtifactMeta:
    cfg = ckpt.config
    state_shape = [job.batch, cfg.total_len, cfg.hidden_size]
    return ArtifactMeta(
        target=job.target, recursion=job.recursion, quantize=internal, model_file=result.model_file,
        task=ckpt.data_meta.task if ckpt.data_meta else "unknown",
        vocab_size=cfg.vocab_size, seq_len=cfg.seq_len,
        grid_shape=list(ckpt.data_meta.grid_shape) if ckpt.data_meta and ckpt.data_meta.grid_shape else None,
        hidden_size=cfg.hidden_size, state_shape=state_shape,
        prefix_len=cfg.prefix_len, H_cycles=cfg.H_cycles, L_cycles=cfg.L_cycles,
        halt_max_steps=cfg.halt_max_steps,
        halting={"rule": "stop a puzzle once q_halt > 0, else after halt_max_steps steps",
                 "official_eval": "always halt_max_steps steps"},
        inputs=graphs.in_specs, outputs=graphs.out_specs,
        batch=job.batch, source_checkpoint=recorded_source(job.checkpoint, job.out), source_sha256=ckpt.sha256 or "",
        tool_versions={"torch": torch.__version__, "python": platform.python_version(), **result.tool_versions},
        token_codec=_codec(ckpt),
        extra={"notes": result.notes, **result.extra, **_state_note(job.recursion, state_shape),
               **_methods_note(graphs.methods), **_recorded_settings(ckpt)},
    )


def _state_note(recursion: str, state_shape: list[int]) -> dict:
    if not recursion_mode(recursion).state_in_graph:
        return {}
    return ModelStates([TensorSpec(n, state_shape, "float16") for n in STATEFUL_STATES]).to_extra()


def _methods_note(methods: dict) -> dict:
    """What an app needs to drive a `--recursion net` program: each method's tensors (the schedule is NET_USE)."""
    if not methods:
        return {}
    described = {}
    with torch.no_grad():
        for name, (graph, example) in methods.items():
            ins, outs = NET_METHODS[name]
            described[name] = (_specs(ins, example), _specs(outs, graph(*example)))
    return NetProgram(described).to_extra()


def _specs(names, tensors) -> list[TensorSpec]:
    """Name, shape and dtype of each example tensor, as metadata.json records them."""
    return [TensorSpec(n, list(t.shape), str(t.dtype).replace("torch.", "")) for n, t in zip(names, tensors)]


def _codec(ckpt: Checkpoint) -> dict:
    """How the model's tokens map to cells, for an app that builds its own inputs."""
    return get_task(ckpt.data_meta.task).codec() if ckpt.data_meta else {}
