"""Puzzles per second against the official evaluation, on the same minimal 9x9 puzzles, one thread, one run.

The yardstick is the official evaluation: the PyTorch checkpoint in fp32 running all N_sup steps on every puzzle.
Every other row solves the same puzzles with a halting rule (continuous batching where the batch is above 1) and
says how many puzzles per second it solves, how many exactly, and how that compares with the yardstick.

    taskset -c 0 python scripts/bench/throughput.py [--checkpoint models/sudoku9/checkpoint.pt] [--puzzles 100]

Writes OUT/results.json and OUT/table.md (generated from it; OUT defaults to results/throughput).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from trm_edge.data.tasks import DataSpec, band_split  # noqa: E402
from trm_edge.export import export_checkpoint  # noqa: E402
from trm_edge.model.checkpoint import load_checkpoint  # noqa: E402
from trm_edge.runtime.artifacts import load_runner  # noqa: E402
from trm_edge.runtime.loop import solve, solve_stream  # noqa: E402
from trm_edge.runtime.reference import initial_state, torch_step  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# (label, target or None for PyTorch, precision, batch, halting, max steps or None for N_sup)
ROWS = [("pytorch fp32, all steps (official eval)", None, "fp32", 64, "fixed", None),
        ("pytorch fp32, stable-2, streamed", None, "fp32", 64, "stable-2", None),
        ("onnx fp32 batch 1, stable-2", "onnx", "none", 1, "stable-2", None),
        ("onnx fp32 batch 8, stable-2, streamed", "onnx", "none", 8, "stable-2", None),
        ("onnx int8 batch 8, stable-2, streamed", "onnx", "int8", 8, "stable-2", None),
        ("executorch int8 batch 1, stable-2", "executorch", "int8", 1, "stable-2", None),
        ("executorch int8 batch 8, stable-2, streamed", "executorch", "int8", 8, "stable-2", None),
        ("onnx fp32 batch 8, stable-2, up to 32 steps", "onnx", "none", 8, "stable-2", 32)]


def timed(fn) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def pytorch_row(model, data, batch: int, halting: str, max_steps: int):
    step = torch_step(model)
    if halting == "fixed":   # the official evaluation: batches of all steps
        def run():
            parts = []
            for s in range(0, len(data), batch):
                y, z = initial_state(model, len(data.inputs[s:s + batch]))
                parts.append(solve(step, y, z, data.inputs[s:s + batch], data.puzzle_identifiers[s:s + batch],
                                   max_steps, "fixed"))
            return np.concatenate([p.predictions for p in parts]), np.concatenate([p.steps for p in parts])
    else:
        def run():
            res = solve_stream(step, lambda: initial_state(model, batch), data.inputs, data.puzzle_identifiers,
                               max_steps, halting, shrink=True)
            return res.predictions, res.steps
    return timed(run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=100)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "throughput")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ckpt = load_checkpoint(args.checkpoint)
    model = ckpt.build_model()
    data = band_split(DataSpec.from_saved(ckpt.info["data_spec"]), None, args.puzzles)
    n_sup = model.config.halt_max_steps
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, target, precision, batch, halting, max_steps in ROWS:
            steps_cap = max_steps or n_sup
            if target is None:
                (pred, steps), seconds = pytorch_row(model, data, batch, halting, steps_cap)
            else:
                folder = Path(tmp) / f"{target}-{precision}-{batch}"
                if not folder.exists():
                    export_checkpoint(args.checkpoint, target, folder, quantize=precision, batch=batch,
                                      parity_puzzles=0, log=lambda m: None)
                runner = load_runner(folder, threads=1)
                res, seconds = timed(lambda: runner.solve(data.inputs, data.puzzle_identifiers, halting, steps_cap))
                pred, steps = res.predictions, res.steps
            exact = float((pred == data.labels).all(-1).mean())
            rows.append({"label": label, "target": target or "pytorch", "precision": precision, "batch": batch,
                         "halting": halting,
                         "max_steps": steps_cap, "exact": exact, "mean_steps": float(np.mean(steps)),
                         "seconds": seconds, "puzzles_per_s": len(data) / seconds})
            print(f"{label}: exact {exact:.3f}, {len(data) / seconds:.1f} puzzles/s", flush=True)
    base = rows[0]["puzzles_per_s"]
    for row in rows:
        row["x_official_eval"] = row["puzzles_per_s"] / base
    result = {"checkpoint": str(args.checkpoint.relative_to(REPO)) if args.checkpoint.is_relative_to(REPO)
              else str(args.checkpoint), "band": "minimal", "puzzles": len(data), "threads": 1,
              "created": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "table.md").write_text(table(result))
    print(table(result))


def table(result: dict) -> str:
    lines = [f"{result['puzzles']} minimal 9x9 puzzles, {result['threads']} thread, `{result['checkpoint']}` "
             f"({result['created']})", "",
             "| source | exact | mean steps | puzzles/s | x official eval |", "|---|---|---|---|---|"]
    lines += [f"| {r['label']} | {r['exact']:.3f} | {r['mean_steps']:.1f} | {r['puzzles_per_s']:.1f} | "
              f"{r['x_official_eval']:.1f} |" for r in result["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
