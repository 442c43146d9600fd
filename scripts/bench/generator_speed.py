"""Speed of the 9x9 Sudoku generator on one core, and the difficulty of what it makes.

    taskset -c 0 python scripts/bench/generator_speed.py --count 2000 --out results/default/generator.json

Target (the real-scale issue): at least 1,000 unique-solution puzzles per minute at the hardest setting
(digging until no given can be removed). The first call compiles the search (numba, cached on disk)
and is not timed.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from trm_edge.data import sudoku

SETTINGS = {"minimal (difficulty 1.0)": None, "30-40 givens": (30, 40), "17-81 target (mixed)": (17, 81)}


def measure(count: int, givens: tuple[int, int] | None, seed: int) -> dict:
    t0 = time.perf_counter()
    pairs = sudoku.generate(count, 9, 1.0, seed, givens)
    seconds = time.perf_counter() - t0
    ratings = [sudoku.rate(p) for p, _ in pairs]
    unique = sum(sudoku.count_solutions(p) == 1 for p, _ in pairs)
    return {
        "puzzles": count, "seconds": round(seconds, 3), "puzzles_per_minute": round(60 * count / seconds),
        "unique_solution": unique,
        "givens": {"mean": float(np.mean([r.givens for r in ratings])), "min": min(r.givens for r in ratings),
                   "max": max(r.givens for r in ratings)},
        "technique": dict(Counter(r.technique.name.lower() for r in ratings)),
        "search_nodes_median": float(np.median([r.search_nodes for r in ratings])),
        "search_nodes_p90": float(np.percentile([r.search_nodes for r in ratings], 90)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="puzzles per setting")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args()
    sudoku.generate(2, 9, seed=123)   # compile (or load the cached compilation)
    results = {}
    for name, givens in SETTINGS.items():
        results[name] = r = measure(args.count, givens, seed=7)
        print(f"{name:26s} {r['puzzles_per_minute']:>8,} puzzles/min  unique {r['unique_solution']}/{r['puzzles']}  "
              f"givens {r['givens']['mean']:.1f} ({r['givens']['min']}-{r['givens']['max']})  "
              f"techniques {r['technique']}  search nodes median {r['search_nodes_median']:.0f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
