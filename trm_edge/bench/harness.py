"""`trm-edge bench`: every artifact next to the PyTorch reference, as a table, JSON and a plot.

Each row runs in its own process (trm_edge.bench.worker): its peak memory is its own and a broken
artifact becomes a failed row. Phone figures are estimates from peak numbers in devices.json and
are kept in their own table, never mixed with measurements.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..datasets.splits import parse_band, spec_for
from ..artifact import folder_size, read_meta, source_path, verified_source, verify
from .. import recursion, targets
from ..targets import Precision
from ..host_loop import Halting, HaltRule
from ..subproc import HelperFailed, HelperJob, run_helper
from ..progress import silent

DEVICES_FILE = Path(__file__).with_name("devices.json")


@dataclass
class BenchRow:
    runtime: str
    precision: str
    recursion: str
    threads: int | str
    batch: int
    halting: str
    device: str
    source: str
    size_kb: float | None = None
    status: str = "ok"
    measured: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    computes_in: str | None = None   # the GEMMs' precision where the artifact says it is not `precision`


def _worker(args: list[str], timeout: float) -> dict[str, Any]:
    try:
        row = run_helper(HelperJob("trm_edge.bench.worker", args, "the bench worker", timeout))
    except HelperFailed as exc:
        return {"status": "failed", "error": str(exc)}
    return row if row is not None else {"status": "failed", "error": "the bench worker gave no row"}


def source_checkpoint(artifacts: list[Path], log: Callable[[str], None] = silent) -> Path | None:
    """The checkpoint an artifact was exported from, used only when the file there is byte for byte the one
    exported (its SHA-256 is in the metadata); it is then read with the weights-only loader like any other."""
    for a in artifacts:
        meta = read_meta(a)
        src = source_path(a, meta)
        if not src.is_file():
            continue
        if verified_source(a, meta) is None:
            log(f"not using {src} (named by {a}/metadata.json): it is not the file that artifact was exported from")
            continue
        log(f"PyTorch rows use {src}, the checkpoint {a} was exported from (pass --checkpoint to choose another)")
        return src
    return None


def resolve_data_spec(artifacts: list[Path], checkpoint: Path | None, data_path: Path | None,
                      log: Callable[[str], None] = silent):
    """(the data spec as a dict, the PyTorch rows' checkpoint path and its loaded Checkpoint, or None, None)."""
    from ..model.checkpoint import load_checkpoint

    for a in artifacts:   # every artifact as exported, before any work
        verify(a)
    ckpt_path = checkpoint if checkpoint is not None else source_checkpoint(artifacts, log)
    if checkpoint is not None:
        log(f"PyTorch rows use {checkpoint}")
    ckpt = load_checkpoint(ckpt_path) if ckpt_path is not None else None
    for a in artifacts if ckpt is not None else ():
        ckpt.check_artifact(read_meta(a), str(a))
    if ckpt is not None and artifacts:
        ckpt = _at_artifacts_depth(ckpt, artifacts, log)
    spec = spec_for((ckpt.info or {}).get("data_spec") if ckpt else None,
                    ckpt.data_meta.task if ckpt and ckpt.data_meta else None, data_path)
    if spec is None:
        raise ValueError("no puzzles to benchmark on: give --checkpoint (a trm-edge checkpoint with its data) or --data-path")
    if data_path is not None:   # refused here, before any row, as evaluate and export refuse it
        _check_data_path(data_path, spec, ckpt, artifacts)
    return dataclasses.asdict(spec), ckpt_path, ckpt


def _check_data_path(data_path: Path, spec, ckpt, artifacts: list[Path]) -> None:
    """--data-path must exist and hold puzzles of the model's size."""
    from ..datasets import held_out

    if not Path(data_path).exists():
        raise FileNotFoundError(f"--data-path {data_path}: no such file or folder")
    data = held_out(spec, 1, whole_file=True)
    if ckpt is not None:
        ckpt.check_fits(data.meta, f"the puzzles in {data_path}")
    for a in artifacts:
        meta = read_meta(a)
        if data.meta.seq_len != meta.seq_len:
            raise ValueError(f"the puzzles in {data_path} have {data.meta.seq_len} cells, but {a} takes {meta.seq_len}")


def _at_artifacts_depth(ckpt, artifacts: list[Path], log: Callable[[str], None]):
    """The reference runs the depth (T, n) the artifacts were exported at, so rows compare like with like."""
    depths = {(m.H_cycles, m.L_cycles) for m in map(read_meta, artifacts)}
    if len(depths) > 1:
        raise ValueError("these artifacts were exported at different depths (T, n): "
                         f"{', '.join(map(str, sorted(depths)))}; compare them in separate runs")
    (h, l), = depths
    if (h, l) != (ckpt.config.H_cycles, ckpt.config.L_cycles):
        log(f"PyTorch runs at T={h}, n={l} like the artifacts (trained at T={ckpt.config.H_cycles}, "
            f"n={ckpt.config.L_cycles})")
    return ckpt.at_depth(h, l)


@dataclass
class BenchRequest:
    """What one `trm-edge bench` run measures: every artifact and the PyTorch reference, once per thread count
    and halting rule, on the same held-out puzzles."""

    artifacts: list[Path]
    threads: list[int]
    device: str = "auto"                     # cuda adds PyTorch rows on the GPU; auto: when there is one
    puzzles: int = 100
    halting: list[str] = field(default_factory=lambda: ["fixed"])
    checkpoint: Path | None = None           # the PyTorch reference (default: the artifacts' source)
    data_path: Path | None = None
    large_batch: int = 64
    repeats: int = 64
    timeout: float = 900
    budget_s: float = 20.0
    max_steps: int | None = None             # supervision steps allowed (default: the trained N_sup)
    throughput: bool = False                 # all puzzles in one streamed call, beside the official evaluation
    tries: int = 1                           # throughput rows: views of each puzzle until the rules accept one
    depth: dict[str, int] | None = None      # the PyTorch rows' T and n (set from the artifacts by run_bench)
    band: str | None = None                  # generated Sudoku: 'minimal' or 'LO-HI' givens instead of the test split

    def worker_args(self, spec: dict, yardstick: bool = False) -> list[str]:
        """The options every row's worker gets (the yardstick runs the trained N_sup and depth whatever the rest do)."""
        return (["--data-spec", json.dumps(spec), "--puzzles", str(self.puzzles), "--repeats", str(self.repeats),
                 "--budget-s", str(self.budget_s)] + (["--throughput"] if self.throughput else [])
                + (["--band", self.band] if self.band else [])
                + (["--tries", str(self.tries)] if self.tries > 1 and not yardstick else [])
                + [f"--{k.lower().replace('_', '-')}={v}" for k, v in (self.depth or {}).items() if not yardstick]
                + (["--max-steps", str(self.max_steps)] if self.max_steps and not yardstick else []))

    def checked(self) -> "BenchRequest":
        """The request with its halting rules parsed (named as the rows will name them), or a ValueError that says
        in one line which option is wrong, before any row runs."""
        from ..host_loop import check_max_steps

        if not self.artifacts and self.checkpoint is None:
            raise ValueError("give artifact folders and/or --checkpoint")
        for value, flag in ((min(self.threads), "--threads"), (self.puzzles, "--puzzles"),
                            (self.large_batch, "--large-batch"), (self.repeats, "--repeats"), (self.tries, "--tries")):
            if value < 1:
                raise ValueError(f"{flag} must be at least 1 (got {value})")
        rules = [h.strip() for h in self.halting if h.strip()]
        if not rules:
            raise ValueError(f"--halting names no rule (got {','.join(self.halting)!r})")
        try:
            rules = [str(Halting.parse(h)) for h in rules]
        except ValueError as exc:
            raise ValueError(f"--halting: {exc}") from None
        if not self.budget_s > 0:
            raise ValueError(f"--budget-s must be positive (got {self.budget_s})")
        if self.max_steps is not None:
            check_max_steps(self.max_steps)
        if self.band is not None:
            if self.data_path is not None:
                raise ValueError("--band picks generated puzzles of a difficulty: not with --data-path")
            parse_band(self.band)
        if self.tries != 1 and not self.throughput:
            raise ValueError("--tries is measured in --throughput mode (puzzles per second of a whole file)")
        self._check_device()
        return dataclasses.replace(self, halting=rules)

    def _check_device(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"--device must be auto, cpu or cuda (got {self.device!r})")
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise ValueError("--device cuda: this machine has no CUDA device (use --device auto or cpu)")

    def halting_label(self, rule: str) -> str:
        label = rule if self.max_steps is None else f"{rule} (max {self.max_steps})"
        return label + (f", {self.tries} tries" if self.tries > 1 else "")


def run_bench(req: BenchRequest, log: Callable[[str], None] = silent) -> dict[str, Any]:
    import torch

    from .flops import peak_gemm_shapes, step_cost

    spec, ckpt_path, ckpt = resolve_data_spec(req.artifacts, req.checkpoint, req.data_path, log)
    if req.throughput and ckpt_path is None:
        raise ValueError("--throughput compares every row with the official evaluation: give --checkpoint "
                         "(or artifacts exported from a checkpoint on this machine)")
    req = dataclasses.replace(req, depth=ckpt.config.depth() if ckpt is not None else None)
    model = ckpt.build_model() if ckpt is not None else None
    cost = step_cost(model) if model is not None else None
    peaks, peak_sources = _cpu_peaks(req.threads, peak_gemm_shapes(model, req.large_batch) if model else None, log)
    torch.set_num_threads(max(req.threads))
    big = min(req.large_batch, req.puzzles)   # a batch larger than the puzzles would be timed at the puzzle count
    if big < req.large_batch:
        log(f"--large-batch {req.large_batch} is more than --puzzles {req.puzzles}: the large-batch rows use batch {big}")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if req.device == "auto" else req.device
    log = _announce_rows(req, ckpt_path, big, device, log)
    rows = _cpu_rows(req, ckpt_path, spec, big, log)
    if device == "cuda":
        rows += _cuda_rows(req, ckpt_path, spec, big, peaks, log)
    for r in rows:
        _derive(r, cost, peaks, peak_sources)
    if req.throughput:
        _compare_with_yardstick(rows, cost)
    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "host": {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
                 "cpu_count": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
                 "cuda": torch.cuda.get_device_name(0) if device == "cuda" and torch.cuda.is_available() else None},
        "data": spec, "band": req.band, "puzzles": _puzzles_solved(rows), "puzzles_asked": req.puzzles,
        "max_steps": req.max_steps,
        "checkpoint": str(ckpt_path) if ckpt_path else None,
        "step_cost": cost, "measured_peak_gflops": peaks, "peak_set_by": peak_sources,
        "rows": [r.__dict__ for r in rows],
        "phone_estimates": phone_estimates(cost, ckpt.config.halt_max_steps) if cost else [],
    }


def _puzzles_solved(rows: list[BenchRow]) -> int:
    """The puzzles the rows really solved (fewer than asked when the data holds fewer)."""
    return max((int(r.measured.get("puzzles", 0)) for r in rows if r.status == "ok"), default=0)


def _cpu_peaks(threads: list[int], shapes, log) -> tuple[dict[str, float], dict[str, str]]:
    """The fastest installed GEMM on the step's shapes per thread count and per precision a row computes in
    (cpu-Nt: fp32, cpu-Nt-bf16, cpu-Nt-int8), and which kernel set each."""
    from .flops import cpu_precision_peaks

    peaks: dict[str, float] = {}
    sources: dict[str, str] = {}
    for t in threads:
        for precision, (rate, kernel) in cpu_precision_peaks(t, shapes).items():
            key = _peak_key(t, precision)
            peaks[key], sources[key] = rate, kernel
            log(f"measured CPU {precision} GEMM peak with {t} thread(s): {rate:.1f} G(FL)OP/s by {kernel} "
                f"(fastest installed kernel on the step's shapes {shapes or 'square 1024'})")
    return peaks, sources


def _peak_key(threads: int | str, precision: str) -> str:
    return f"cpu-{threads}t" + ("" if precision == PEAK_FP32 else f"-{precision}")


def _pytorch_batches(req: BenchRequest, big: int) -> list[int]:
    return [big] if req.throughput else sorted({1, big})   # throughput: the batch that streams best


def _announce_rows(req: BenchRequest, ckpt_path: Path | None, big: int, device: str, log) -> Callable[[str], None]:
    """Say how many rows and how long, and number each row's line from then on (see _eta_log)."""
    import torch

    pytorch = len(_pytorch_batches(req, big)) if ckpt_path else 0
    n_rows = len(req.threads) * (len(req.halting) * (len(req.artifacts) + pytorch) + req.throughput)
    log(f"{n_rows} CPU rows, each about {req.budget_s:.0f} s of warm-up and step timing plus solving {req.puzzles} "
        f"puzzles (at least ~{n_rows * req.budget_s / 60:.0f} min; --budget-s and --puzzles set the pace)")
    with_cuda = ckpt_path and device == "cuda" and torch.cuda.is_available()
    return _eta_log(n_rows + (len(req.halting) * 4 * len({1, big}) if with_cuda else 0),
                    len(req.artifacts) + pytorch, log)


def _cpu_rows(req: BenchRequest, ckpt_path: Path | None, spec: dict, big: int, log) -> list[BenchRow]:
    """PyTorch and artifact rows per thread count and halting rule (throughput mode: after the yardsticks)."""
    common = req.worker_args(spec)
    rows: list[BenchRow] = []
    for t in req.threads:
        for h in req.halting:
            for b in _pytorch_batches(req, big) if ckpt_path else ():
                rows.append(_pytorch_row(ckpt_path, PytorchRow(t, "cpu", "fp32", False, b, h), common, req.timeout,
                                         log))
            for a in req.artifacts:
                rows.append(_artifact_row(a, t, h, common, req.timeout, log))
    for r in rows:
        r.halting = req.halting_label(r.halting)
    return (_yardsticks(req, ckpt_path, big, spec, log) if req.throughput else []) + rows


def _cuda_rows(req: BenchRequest, ckpt_path: Path | None, spec: dict, big: int, peaks: dict[str, float],
               log) -> list[BenchRow]:
    """PyTorch on the GPU: fp32 and bf16, eager and compiled, per halting rule and batch."""
    import torch

    from .flops import measure_peak_gflops

    if not torch.cuda.is_available():
        log("no CUDA device: CUDA rows skipped")
        return []
    if not ckpt_path:
        return []
    peaks["cuda-fp32"] = measure_peak_gflops(0, "cuda", 8192)
    peaks["cuda-bf16"] = measure_peak_gflops(0, "cuda", 8192, torch.bfloat16)
    log(f"measured CUDA matmul peak: fp32 {peaks['cuda-fp32']:.0f}, bf16 {peaks['cuda-bf16']:.0f} GFLOP/s")
    rows = []
    for h in req.halting:
        for prec, comp in (("fp32", False), ("bf16", False), ("fp32", True), ("bf16", True)):
            for b in sorted({1, big}):
                rows.append(_pytorch_row(ckpt_path, PytorchRow("gpu", "cuda", prec, comp, b, h), req.worker_args(spec),
                                         req.timeout, log))
                rows[-1].halting = req.halting_label(h)
    return rows


def _yardsticks(req: BenchRequest, ckpt_path: Path, batch: int, spec: dict, log) -> list[BenchRow]:
    """The official evaluation, once per thread count: the PyTorch checkpoint in fp32 running all N_sup steps
    on every puzzle, batch by batch (what every throughput row is compared with)."""
    rows = []
    for t in req.threads:
        row = _pytorch_row(ckpt_path, PytorchRow(t, "cpu", "fp32", False, batch, "fixed"),
                           req.worker_args(spec, yardstick=True), req.timeout, log)
        row.derived["yardstick"] = True
        row.halting = "fixed (official eval)"
        rows.append(row)
    return rows


def _compare_with_yardstick(rows: list[BenchRow], cost: dict | None) -> None:
    """Each CPU row's puzzles/s over the official evaluation's with the same threads, in the same run; and the
    row's limit in the same unit: its precision's GEMM peak over the FLOPs a puzzle costs at its mean steps."""
    official = {r.threads: r.measured["puzzles_per_s"] for r in rows
                if r.derived.get("yardstick") and r.status == "ok"}
    for r in rows:
        if r.status == "ok" and r.threads in official and "puzzles_per_s" in r.measured:
            r.derived["x_official_eval"] = r.measured["puzzles_per_s"] / official[r.threads]
            peak, steps = r.derived.get("peak_gflops"), r.measured.get("mean_steps")
            if peak and steps and cost:
                limit = peak * 1e9 / (cost["step_flops"] * steps)   # puzzles/s at the precision's peak
                r.derived["limit_x_official_eval"] = limit / official[r.threads]


PEAK_FP32 = "fp32"


def _computes_in(precision: str) -> str | None:
    """The precision a row's GEMMs run in, whose peak it is measured against: fp32 for fp32 and fp16 artifacts
    (CPU runtimes compute fp16 graphs in fp32), int8 for int8, bf16 for bf16; None for weights decoded at run
    time (int4, palettes, NPU formats)."""
    if precision in (PEAK_FP32, Precision.FP32, Precision.FP16):
        return PEAK_FP32
    if precision in (Precision.INT8, Precision.INT8_STATIC):
        return "int8"
    return "bf16" if precision == "bf16" else None


def _eta_log(total: int, per_pass: int, log: Callable[[str], None]) -> Callable[[str], None]:
    """`log` with each row's opening line numbered and, from the second row on, the time left. Rows come in passes
    (one per thread count and halting rule) over the same artifacts, so a row not yet run is predicted by the same
    row of the last pass, and only in the first pass by the mean so far: the estimate stops jumping between a
    fast PyTorch row and a slow artifact once one pass is done."""
    starts: list[float] = []
    cycle = max(per_pass, 1)

    def left_s() -> float:
        took = [b - a for a, b in zip(starts, starts[1:])]
        mean = sum(took) / len(took)
        predicted = 0.0
        for j in range(len(took), total):
            k = j - cycle * ((j - len(took)) // cycle + 1)   # the same row, one pass back or more
            predicted += took[k] if 0 <= k < len(took) else mean
        return predicted

    def row_log(message: str) -> None:
        if message.startswith("bench "):
            starts.append(time.perf_counter())
            left = f", ~{left_s() / 60:.1f} min left" if len(starts) > 1 else ""
            message = f"row {len(starts)}/{total}{left}: {message}"
        log(message)
    return row_log


@dataclass(frozen=True)
class PytorchRow:
    """Where and how one PyTorch row runs."""

    threads: int | str       # "gpu" for CUDA rows
    device: str
    precision: str           # fp32 | bf16
    compile: bool
    batch: int
    halting: str


def _pytorch_row(ckpt: Path, how: PytorchRow, common: list[str], timeout: float, log) -> BenchRow:
    name = "pytorch" + ("+compile" if how.compile else "")
    row = BenchRow(name, how.precision, "step", how.threads, how.batch, how.halting, how.device, str(ckpt))
    args = ["--checkpoint", str(ckpt), "--device", how.device, "--precision", how.precision, "--batch", str(how.batch),
            "--halting", how.halting, "--threads", str(how.threads if isinstance(how.threads, int) else 1), *common]
    if how.compile:
        args.append("--compile")
    log(f"bench {name} {how.device} {how.precision} threads={how.threads} batch={how.batch} halting={how.halting}")
    return _fill(row, _worker(args, timeout))


def _artifact_row(folder: Path, threads: int, halting: str, common: list[str], timeout: float, log) -> BenchRow:
    try:
        meta = read_meta(folder)
        gemm = targets.get(meta.target).gemm_precision
        row = BenchRow(meta.target, meta.quantize, meta.recursion, threads, meta.batch, halting, "cpu", str(folder),
                       size_kb=folder_size(folder, meta.model_file) / 1024,
                       computes_in=gemm(meta.extra) if gemm else None)
    except (FileNotFoundError, ValueError) as exc:
        return BenchRow("?", "?", "?", threads, 0, halting, "cpu", str(folder), status="failed", error=str(exc))
    if recursion.mode(meta.recursion).graph_halts and Halting.parse(halting).rule is not HaltRule.ACT:
        row.status, row.error = "skipped", "this artifact halts inside its graph (q_halt > 0): only halting=act applies"
        log(f"bench {meta.target} {meta.quantize} {meta.recursion} threads={threads} halting={halting}: skipped, "
            "its graph halts by itself")   # still a row of the pass, so the time-left estimate stays aligned
        return row
    log(f"bench {meta.target} {meta.quantize} {meta.recursion} threads={threads} halting={halting}")
    row = _fill(row, _worker(["--artifact", str(folder), "--threads", str(threads), "--halting", halting, *common],
                             timeout))
    if targets.get(meta.target).simulated and row.status == "ok":   # a simulator's answers, not a phone's time
        row.measured = {k: v for k, v in row.measured.items() if k in SIMULATED_KEEPS}
        row.derived["simulated"] = True
    return row


SIMULATED_KEEPS = ("exact_accuracy", "mean_steps", "puzzles")


def _fill(row: BenchRow, result: dict[str, Any]) -> BenchRow:
    row.status = result.pop("status", "failed")
    if row.status != "ok":
        row.error = result.get("error", "unknown error")
    row.measured = result
    return row


def _derive(row: BenchRow, cost: dict | None, peaks: dict[str, float], peak_sources: dict[str, str]) -> None:
    """Throughput and efficiency computed from this row's own measurements and this run's measured peak (and the
    kernel that set it)."""
    if row.status != "ok" or not cost or row.derived.get("simulated"):
        return
    m = row.measured
    if "step" in m:
        achieved = cost["step_flops"] * row.batch / (m["step"]["p50_ms"] / 1000) / 1e9
    elif "puzzle" in m:   # unrolled: the whole recursion in one call
        achieved = cost["step_flops"] * row.batch * m["mean_steps"] / (m["puzzle"]["p50_ms"] / 1000) / 1e9
    else:   # unrolled in throughput mode: the steps it ran over the wall time of the whole file
        achieved = cost["step_flops"] * m["mean_steps"] * m["puzzles_per_s"] / 1e9
    row.derived["achieved_gflops"] = achieved
    computes_in = _computes_in(row.computes_in or row.precision)
    if computes_in is None:   # weights decoded at run time: no one GEMM kernel is its yardstick
        row.derived["peak_note"] = f"{row.precision} row: no GEMM peak of its own is measured (weights decoded at run time)"
        return
    key = _peak_key(row.threads, computes_in) if row.device == "cpu" else f"cuda-{row.precision}"
    if key in peaks:
        row.derived["peak_precision"] = computes_in
        row.derived["peak_gflops"] = peaks[key]
        row.derived["peak_set_by"] = peak_sources.get(key)
        row.derived["fraction_of_peak"] = min(1.0, achieved / peaks[key])
        if achieved > peaks[key]:   # the row beat every GEMM measured: the peak, not the row, is off
            row.derived["peak_note"] = (f"{achieved / peaks[key]:.0%} of the measured peak: faster than every "
                                        "library GEMM timed here, shown as 100%")


def phone_estimates(cost: dict, n_sup: int) -> list[dict[str, Any]]:
    """Roofline lower bounds for named chips: max(compute time at peak, weight+state traffic at peak bandwidth)."""
    devices = json.loads(DEVICES_FILE.read_text())["devices"]
    out = []
    for d in devices:
        compute_s = cost["step_flops"] / (d["cpu_fp32_gflops"] * 1e9)
        memory_s = (cost["weight_bytes_fp32"] + cost["state_bytes"]) / (d["memory_gbps"] * 1e9)
        step_ms = max(compute_s, memory_s) * 1000
        est = {"device": d["name"], "est_cpu_step_ms": step_ms, "est_cpu_puzzle_ms_fixed": step_ms * n_sup,
               "bound": "compute" if compute_s >= memory_s else "memory",
               "sources": {"cpu": d["cpu_fp32_gflops_source"], "memory": d["memory_source"]}}
        out.append(est)
    return out
