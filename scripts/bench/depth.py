"""Inference-time depth: the committed 9x9 model run with more or fewer recursion cycles per supervision step
than it was trained with (T = H_cycles, n = L_cycles), on held-out minimal puzzles.

    python scripts/bench/depth.py [--checkpoint models/sudoku9-hard/checkpoint.pt] [--puzzles 200]

Compute is counted in calls of the shared network per puzzle: mean supervision steps x T x (n + 1).
Writes OUT/results.json and OUT/table.md (generated from it).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from trm_edge.bench.report import write_results
from trm_edge.data import exact_accuracy
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.reference import solve_with_model

REPO = Path(__file__).resolve().parents[2]


def measure(ckpt_path: Path, puzzles: int, halting: str, max_steps: int, depths: list[tuple[int, int]]) -> dict:
    ckpt = load_checkpoint(ckpt_path)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), puzzles, "minimal")
    model = ckpt.build_model().eval()
    trained = (model.config.H_cycles, model.config.L_cycles)
    rows = []
    for T, n in depths:
        model.config.H_cycles, model.config.L_cycles = T, n
        t0 = time.perf_counter()
        res = solve_with_model(model, data.inputs, data.puzzle_identifiers, max_steps, halting)
        steps = float(res.steps.mean())
        rows.append({"T": T, "n": n, "trained": (T, n) == trained,
                     "exact_accuracy": float(exact_accuracy(res.predictions, data.labels).mean()),
                     "mean_steps": steps, "net_calls_per_puzzle": steps * T * (n + 1),
                     "seconds": time.perf_counter() - t0})
        print(f"T={T} n={n}: exact {rows[-1]['exact_accuracy']:.3f}, {steps:.1f} steps", flush=True)
    return {"checkpoint": str(ckpt_path.relative_to(REPO) if ckpt_path.is_relative_to(REPO) else ckpt_path),
            "band": "minimal", "puzzles": len(data), "halting": halting, "max_steps": max_steps,
            "trained_T_n": list(trained), "rows": rows}


def table(result: dict) -> str:
    trained = tuple(result["trained_T_n"])
    lines = [f"{result['checkpoint']}, {result['puzzles']} held-out minimal puzzles, halting {result['halting']}, "
             f"at most {result['max_steps']} steps; trained with T={trained[0]}, n={trained[1]}.", "",
             "| T (H_cycles) | n (L_cycles) | exact | mean steps | net calls per puzzle |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        mark = " (trained)" if r["trained"] else ""
        lines.append(f"| {r['T']}{mark} | {r['n']} | {r['exact_accuracy']:.3f} | {r['mean_steps']:.1f} | "
                     f"{r['net_calls_per_puzzle']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9-hard" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=200)
    ap.add_argument("--halting", default="stable-2")
    ap.add_argument("--max-steps", type=int, default=32)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "depth")
    args = ap.parse_args()
    depths = [(T, n) for T in (1, 2, 3, 4) for n in (1, 2, 3, 4)]
    result = measure(args.checkpoint.resolve(), args.puzzles, args.halting, args.max_steps, depths)
    result["command"] = " ".join(["python", "scripts/bench/depth.py", *sys.argv[1:]])
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
