"""Puzzles per second against the official evaluation, on the same minimal 9x9 puzzles, one thread, one run.

A thin driver of `trm-edge bench --throughput`: it exports the artifacts below, writes the held-out minimal
puzzles as a dataset folder, and benches them all in throughput mode (each row solves the whole file in one
streamed call; a halted row takes the next puzzle). The yardstick, run by the bench in the same run, is the
official evaluation: the PyTorch checkpoint in fp32 running all N_sup steps on every puzzle.

    taskset -c 0 python scripts/bench/throughput.py [--checkpoint models/sudoku9/checkpoint.pt] [--puzzles 100]

Writes OUT/bench.json (the bench's own file, every figure), OUT/results.json and OUT/table.md (generated from
it; OUT defaults to results/throughput).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from trm_edge.bench import BenchRequest, run_bench, write_outputs  # noqa: E402
from trm_edge.bench.report import write_results  # noqa: E402
from trm_edge.export import export_checkpoint  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# (target, precision, batch): each one exported once and benched with every halting rule below
ARTIFACTS = [("onnx", "none", 1), ("onnx", "none", 8), ("onnx", "int8", 8), ("executorch", "int8", 1),
             ("executorch", "int8", 8), ("executorch", "int4", 1)]
HALTING = ["stable-2"]
PYTORCH_BATCH = 64   # the yardstick's batch, and the streamed PyTorch row's


def bench(artifacts: list[Path], ckpt: Path, puzzles: int, max_steps: int | None) -> dict:
    req = BenchRequest(artifacts, [1], puzzles=puzzles, halting=HALTING, checkpoint=ckpt, band="minimal",
                       large_batch=PYTORCH_BATCH, repeats=8, budget_s=2, max_steps=max_steps, throughput=True)
    return run_bench(req, log=lambda m: print(m, flush=True) if m.startswith("row") else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=100)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "throughput")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        arts = [export_checkpoint(args.checkpoint, t, Path(tmp) / f"{t}-{p}-b{b}", quantize=p, batch=b,
                                  parity_puzzles=0) for t, p, b in ARTIFACTS]
        runs = [bench(arts, args.checkpoint, args.puzzles, None),
                bench([a for a, (t, p, b) in zip(arts, ARTIFACTS) if (t, p, b) == ("onnx", "none", 8)],
                      args.checkpoint, args.puzzles, 32)]
    result = {"checkpoint": str(args.checkpoint.relative_to(REPO)) if args.checkpoint.is_relative_to(REPO)
              else str(args.checkpoint), "band": "minimal", "puzzles": runs[0]["puzzles"], "threads": 1,
              "created": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": [_row(r) for run in runs for r in run["rows"]]}
    write_outputs(runs[0], args.out)
    write_results(args.out, result, table(result))
    print(table(result))


def _row(r: dict) -> dict:
    m = r["measured"]
    return {"runtime": r["runtime"], "precision": r["precision"], "batch": r["batch"], "halting": r["halting"],
            "status": r["status"], "exact": m.get("exact_accuracy"), "mean_steps": m.get("mean_steps"),
            "puzzles_per_s": m.get("puzzles_per_s"), "x_official_eval": r["derived"].get("x_official_eval")}


def table(result: dict) -> str:
    lines = [f"{result['puzzles']} minimal 9x9 puzzles, {result['threads']} thread, `{result['checkpoint']}` "
             f"({result['created']}); `trm-edge bench --throughput`: each row solves the whole file in one streamed "
             "call; the yardstick (official eval) is measured in each bench run.", "",
             "| source | precision | batch | halting | exact | mean steps | puzzles/s | x official eval |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['runtime']} | {r['precision']} | {r['batch']} | {r['halting']} | {r['status']} |||")
            continue
        lines.append(f"| {r['runtime']} | {r['precision']} | {r['batch']} | {r['halting']} | {r['exact']:.3f} | "
                     f"{r['mean_steps']:.1f} | {r['puzzles_per_s']:.1f} | {r['x_official_eval']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
