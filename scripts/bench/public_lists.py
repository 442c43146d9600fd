"""The committed 9x9 models on public lists of hard Sudoku puzzles nobody on the team made.

The lists are not shipped (they are other people's files): give their paths. The ones measured here are Peter
Norvig's `top95.txt` (95 puzzles that defeat simple propagation) and `hardest.txt` (11), as published with his
essay "Solving Every Sudoku Puzzle" (norvig.com/sudoku.html) and copied into many public repositories; one
81-character puzzle per line ('.' or 0 for blanks, lines of other lengths skipped). An answer counts when it is a
valid grid that keeps every given (these puzzles have one solution, so valid means right).

    taskset -c 0 python scripts/bench/public_lists.py top95.txt hardest.txt [--out results/public_lists]

Writes OUT/results.json and OUT/table.md (generated from it).
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from trm_edge.bench.report import write_results
from trm_edge.host_loop import Halting
from trm_edge.runtime.solver import open_source, parse_puzzle, solve_batch

REPO = Path(__file__).resolve().parents[2]
# (committed model, T, n): None keeps the trained depth; sudoku9-hard also at the depth results/depth picked
MODELS = (("sudoku9", None, None), ("sudoku9-hard", None, None), ("sudoku9-hard", 4, 1))
# (halting rule, most supervision steps or None for the trained N_sup)
SETTINGS = (("fixed", None), ("stable-2", 32), ("stable-2", 64))


def read_list(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if len(line.strip()) == 81]


def measure(model: tuple, puzzles: list[str], halting: str, max_steps: int | None) -> dict:
    name, h_cycles, l_cycles = model
    source = open_source(REPO / "models" / name / "checkpoint.pt", threads=1, h_cycles=h_cycles, l_cycles=l_cycles)
    if max_steps:
        source = dataclasses.replace(source, max_steps=max_steps)
    answers = solve_batch(source, [parse_puzzle(source, p) for p in puzzles], Halting.parse(halting))
    solved = sum(a.valid and a.keeps_givens for a in answers)
    return {"model": name, "depth": f"T={h_cycles}, n={l_cycles}" if h_cycles else "trained", "halting": halting, "max_steps": source.max_steps, "puzzles": len(puzzles),
            "solved": solved, "mean_steps": sum(a.steps for a in answers) / len(answers)}


def table(result: dict) -> str:
    lines = [f"Public hard 9x9 lists, PyTorch, one thread ({result['created']}); solved = a valid grid keeping "
             "every given.", "", "| list | model | depth | halting | max steps | solved | mean steps |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['list']} ({r['puzzles']}) | {r['model']} | {r['depth']} | {r['halting']} | {r['max_steps']} | "
                     f"{r['solved']} ({r['solved'] / r['puzzles']:.0%}) | {r['mean_steps']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lists", type=Path, nargs="+", help="puzzle list files (81 characters a line)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "public_lists")
    args = ap.parse_args()
    rows = []
    for path in args.lists:
        puzzles = read_list(path)
        for model in MODELS:
            for halting, max_steps in SETTINGS:
                rows.append({"list": path.name, **measure(model, puzzles, halting, max_steps)})
                print(rows[-1], flush=True)
    result = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
