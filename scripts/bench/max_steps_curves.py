"""Accuracy and mean steps against the most supervision steps allowed (`--max-steps`), per difficulty band and
halting rule, for a checkpoint (default: the committed 9x9 model).

    python scripts/bench/max_steps_curves.py [--checkpoint models/sudoku9/checkpoint.pt] [--puzzles 300]

Each band is solved once with every step recorded up to the largest --steps; each (rule, max steps) cell
reads where that rule would stop off the record (a halted row only freezes its answer), and the largest
max of every rule is checked against a real run of the loop. Writes OUT/results.json and OUT/table.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from trm_edge.bench.report import write_results
from trm_edge.data import exact_accuracy
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.host_loop import Halting, solve, to_host
from trm_edge.runtime.reference import initial_state, solve_with_model, torch_step

REPO = Path(__file__).resolve().parents[2]


def record(model, data, max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Answers [steps, N, L] and q_halt [steps, N] after every step of a fixed run."""
    answers, qs = [], []
    y, z = initial_state(model, len(data))
    solve(torch_step(model), y, z, data.inputs, data.puzzle_identifiers, max_steps, "fixed",
          lambda k, a, q: (answers.append(to_host(a).copy()), qs.append(to_host(q).copy())))
    return np.stack(answers), np.stack(qs)


def stop_steps(rule: Halting, answers: np.ndarray, qs: np.ndarray, max_steps: int) -> np.ndarray:
    """The step at which `rule` stops each puzzle within `max_steps`: the loop's own Halting replayed over the
    record (every step's answer and q_halt)."""
    n = answers.shape[1]
    rows, stopped = rule.rows(), np.full(n, max_steps)
    for k in range(max_steps):
        stop = rows.stops(answers[k], qs[k], None)
        stopped = np.where(stop & (stopped == max_steps) & (k + 1 < max_steps), k + 1, stopped)
    return stopped


def band_rows(model, data, band: str, steps: list[int], rules: list[str]) -> list[dict]:
    answers, qs = record(model, data, max(steps))
    rows = []
    for text in rules:
        rule = Halting.parse(text)
        for m in steps:
            stop = stop_steps(rule, answers, qs, m)
            final = answers[stop - 1, np.arange(len(data))]
            rows.append({"band": band, "halting": text, "max_steps": m, "puzzles": len(data),
                         "exact_accuracy": float(exact_accuracy(final, data.labels).mean()),
                         "mean_steps": float(stop.mean())})
        real = solve_with_model(model, data.inputs, data.puzzle_identifiers, max(steps), halting=text)
        want = answers[stop_steps(rule, answers, qs, max(steps)) - 1, np.arange(len(data))]
        if not (real.predictions == want).all():
            raise AssertionError(f"{band} {text}: the record disagrees with a real run of the loop")
    return rows


def table(result: dict) -> str:
    steps = sorted({r["max_steps"] for r in result["rows"]})
    head = "| band | halting | " + " | ".join(f"max {m}: exact / steps" for m in steps) + " |"
    lines = [head, "|---|---|" + "---|" * len(steps)]
    keys = sorted({(r["band"], r["halting"]) for r in result["rows"]}, key=lambda k: (k[0] != "minimal", k))
    for band, rule in keys:
        cells = {r["max_steps"]: r for r in result["rows"] if (r["band"], r["halting"]) == (band, rule)}
        lines.append(f"| {band} | {rule} | " + " | ".join(
            f"{cells[m]['exact_accuracy']:.3f} / {cells[m]['mean_steps']:.1f}" for m in steps) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=300)
    ap.add_argument("--bands", default="minimal,20-29,30-50")
    ap.add_argument("--steps", default="8,16,32,64")
    ap.add_argument("--halting", default="fixed,act,stable-2,stable-4")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "sudoku9" / "max_steps")
    args = ap.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    model = ckpt.build_model()
    spec = DataSpec.from_saved(ckpt.info["data_spec"])
    steps = sorted(int(s) for s in args.steps.split(","))
    rows = []
    t0 = time.time()
    for band in args.bands.split(","):
        rows += band_rows(model, held_out(spec, args.puzzles, band), band, steps, args.halting.split(","))
        print(f"{band}: done ({time.time() - t0:.0f} s)", flush=True)
    result = {"command": " ".join(["python", "scripts/bench/max_steps_curves.py", *sys.argv[1:]]),
              "checkpoint": str(args.checkpoint), "trained_n_sup": model.config.halt_max_steps, "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
