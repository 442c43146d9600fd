"""Benchmark one runtime in a fresh process, so peak memory is its own and a crash is a failed row.

Prints one JSON line with every measured figure.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
import traceback

import numpy as np


def _rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    """Resident memory now (MB): what loading and running a model adds, without the import-time peak
    that ru_maxrss keeps (Linux /proc; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        return _rss_mb()


def _paced(fn, count: int, budget_s: float) -> None:
    """Call `fn` up to `count` times, at least once, stopping once `budget_s` is spent: warm-up and timing
    scale to the model's cost instead of taking minutes per row at paper size."""
    t0 = time.perf_counter()
    for _ in range(max(1, count)):
        fn()
        if time.perf_counter() - t0 > budget_s:
            return


def _percentiles(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000
    return {"p50_ms": float(np.percentile(a, 50)), "p90_ms": float(np.percentile(a, 90)), "n": len(xs)}


def _load_data(args):
    from trm_edge.datasets import DataSpec, held_out

    return held_out(DataSpec(**json.loads(args.data_spec)), args.puzzles, args.band)


def _preimport(folder: str) -> None:
    """Import the runtime's Python package first, so load time is the model's, not the library's."""
    import importlib

    from trm_edge import targets
    from trm_edge.artifact import read_meta

    module = targets.get(read_meta(folder).target).runtime_module
    if module:
        importlib.import_module(module)


def measure(runner, data, args) -> dict:
    """The one timed path for every row, PyTorch or artifact: step latency (host-stepped runners), then each
    batch solved with the row's halting rule (or, in throughput mode, all puzzles streamed), accuracy, mean steps."""
    from trm_edge.host_loop import pad_batch, solve

    b, n_sup = runner.batch, runner.halt_max_steps   # step timing runs the trained N_sup; solving may run past it
    args.halting = _bound_halting(args.halting, data)   # 'valid' halting stops on the task's rules check
    x, ids = pad_batch(data.inputs[:b], b), pad_batch(data.puzzle_identifiers[:b], b)
    row: dict = {"batch": b}
    _paced(lambda: runner.solve(x, ids, halting=args.halting, max_steps=args.max_steps), args.warmup,
           0.2 * args.budget_s)
    if runner.mode.host_stepped:
        step_times: list[float] = []

        def timed(*a):
            s = time.perf_counter()
            out = runner.step(*a)
            runner.synchronize()
            step_times.append(time.perf_counter() - s)
            return out

        _paced(lambda: solve(timed, *runner.initial_state(), x, ids, n_sup, "fixed"), args.repeats // n_sup,
               0.4 * args.budget_s)
        row["step"] = _percentiles(step_times)
    return row | (_throughput(runner, data, args) if args.throughput else _batch_by_batch(runner, data, args))


def _bound_halting(text, data):
    from trm_edge.host_loop import Halting
    from trm_edge.runtime.tries import bind_halting
    from trm_edge.tasks import get_task

    return bind_halting(Halting.parse(text), get_task(data.meta.task), data.meta.grid_shape[0])


def _throughput_with_tries(runner, data, args) -> dict:
    """All puzzles, each tried as up to --tries views until the rules accept an answer (runtime/tries.py): the
    puzzles per second of the whole file, with the fraction verified and any verified answer that is wrong."""
    from trm_edge.runtime.tries import score_puzzle_set, solve_puzzle_set

    cpu0, start = time.process_time(), time.perf_counter()
    outcomes = solve_puzzle_set(lambda x, ids, rule, steps: runner.solve(x, ids, halting=rule, max_steps=steps),
                                data, args.halting, args.max_steps or runner.halt_max_steps, args.tries)
    runner.synchronize()
    wall = time.perf_counter() - start
    scored = score_puzzle_set(outcomes, data)
    return dict(cpu_per_wall=(time.process_time() - cpu0) / wall, puzzles_per_s=len(data) / wall, throughput=True,
                tries=args.tries, exact_accuracy=scored["exact_accuracy"], mean_steps=scored["mean_steps"],
                verified=scored["verified"], verified_wrong=scored["verified_wrong"], puzzles=len(data))


def _throughput(runner, data, args) -> dict:
    """All puzzles in one call: the runner keeps its batch full (a halted row takes the next puzzle), so the
    figure is puzzles per second of a whole file, not of one batch."""
    if args.tries > 1:
        return _throughput_with_tries(runner, data, args)
    cpu0, start = time.process_time(), time.perf_counter()
    res = runner.solve(data.inputs, data.puzzle_identifiers, halting=args.halting, max_steps=args.max_steps)
    runner.synchronize()
    wall = time.perf_counter() - start
    return dict(cpu_per_wall=(time.process_time() - cpu0) / wall, puzzles_per_s=len(data) / wall, throughput=True,
                **_scores(res.predictions, res.steps, data))


def _batch_by_batch(runner, data, args) -> dict:
    """Each batch timed alone (latency percentiles); the last one padded to the batch."""
    from trm_edge.host_loop import pad_batch

    b = runner.batch
    puzzle_times, preds, steps = [], [], []
    cpu0 = time.process_time()
    for start in range(0, len(data), b):
        xb, ib = data.inputs[start:start + b], data.puzzle_identifiers[start:start + b]
        n = len(xb)   # the last batch is padded: one shape only (torch.compile does not recompile in the timing)
        s = time.perf_counter()
        res = runner.solve(pad_batch(xb, b), pad_batch(ib, b), halting=args.halting, max_steps=args.max_steps)
        runner.synchronize()
        puzzle_times.append(time.perf_counter() - s)
        preds.append(res.predictions[:n])
        steps.append(res.steps[:n])
    return dict(cpu_per_wall=(time.process_time() - cpu0) / sum(puzzle_times),   # ~1.0 when one thread works
                puzzle=_percentiles(puzzle_times), puzzles_per_s=len(data) / sum(puzzle_times),
                **_scores(np.concatenate(preds), np.concatenate(steps), data))


def _scores(predictions: np.ndarray, steps: np.ndarray, data) -> dict:
    from trm_edge.data import exact_accuracy

    return dict(exact_accuracy=float(exact_accuracy(predictions, data.labels, data.meta.ignore_label_id).mean()),
                mean_steps=float(steps.mean()), puzzles=len(data))


def bench_artifact(args) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from trm_edge.runtime.artifacts import load_runner

    data = _load_data(args)
    _preimport(args.artifact)
    base_rss = _current_rss_mb()
    t0 = time.perf_counter()
    runner = load_runner(args.artifact, threads=args.threads)
    load_s = time.perf_counter() - t0
    return {"load_s": load_s, **measure(runner, data, args), **_memory(base_rss)}


def _memory(base_rss: float) -> dict:
    """The process's peak and the model's own memory (resident now minus the baseline taken after imports)."""
    return {"peak_rss_mb": _rss_mb(), "rss_over_baseline_mb": _current_rss_mb() - base_rss}


def bench_pytorch(args) -> dict:
    import torch

    from trm_edge.model.checkpoint import load_checkpoint
    from trm_edge.runtime.reference import TorchRunner

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    data = _load_data(args)
    base_rss = _current_rss_mb()
    t0 = time.perf_counter()
    model = load_checkpoint(args.checkpoint).at_depth(args.h_cycles, args.l_cycles).build_model(args.device)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.precision]
    runner = TorchRunner(model, args.device, args.batch, dtype, forward=torch.compile(model) if args.compile else None)
    load_s = time.perf_counter() - t0
    row = {"load_s": load_s, **measure(runner, data, args), **_memory(base_rss)}
    if args.device == "cuda":
        row["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifact")
    ap.add_argument("--checkpoint")
    ap.add_argument("--data-spec", required=True)
    ap.add_argument("--band", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--puzzles", type=int, default=100)
    ap.add_argument("--halting", default="fixed")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--h-cycles", type=int, default=None, help="PyTorch rows: T (default the trained one)")
    ap.add_argument("--l-cycles", type=int, default=None, help="PyTorch rows: n (default the trained one)")
    ap.add_argument("--throughput", action="store_true", help="solve all puzzles in one streamed call")
    ap.add_argument("--tries", type=int, default=1, help="throughput rows: views of a puzzle until one is accepted")
    ap.add_argument("--repeats", type=int, default=64)
    ap.add_argument("--budget-s", type=float, default=20.0, help="seconds of warm-up and step timing per row")
    args = ap.parse_args(argv)
    try:
        row = bench_artifact(args) if args.artifact else bench_pytorch(args)
        row["status"] = "ok"
    except Exception as exc:  # a broken artifact is a failed row, reported by the parent
        from trm_edge.runtime.artifacts import UnsupportedOnHost

        # Valid but not runnable here (Core ML off macOS, a missing ExecuTorch backend): skipped, not failed.
        row = {"status": "skipped" if isinstance(exc, UnsupportedOnHost) else "failed",
               "error": f"{type(exc).__name__}: {exc}"[:500], "traceback": traceback.format_exc()[-1500:]}
    from trm_edge.subproc import emit_result

    emit_result(row)


if __name__ == "__main__":
    main()
