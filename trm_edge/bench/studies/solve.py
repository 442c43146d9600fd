"""The solve measure: each model on held-out puzzles of each band, under each halting rule, step limit, number of
tries and depth, through `trm-edge evaluate`'s own path (the rules check included).

    measure = "solve"
    bands = ["minimal", "30-36"]       # generated Sudoku bands ("" : the checkpoint's own test split)
    puzzles = 200
    halting = ["stable-2", "valid-2"]
    max_steps = [16, 32]
    tries = [1]                        # optional
    depth = [[4, 1]]                   # optional [T, n] pairs (default: the recorded depth)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ...train.evaluate_job import EvaluateJob, run_evaluate
from ...export.naming import model_name
from .base import Measure, register_measure

KEPT = ("exact_accuracy", "verified", "verified_wrong", "mean_steps", "p95_steps", "puzzles")


@dataclass(frozen=True)
class SolveCell:
    model: str
    band: str
    halting: str
    max_steps: int
    tries: int
    depth: tuple[int, int] | None


@register_measure("solve")
@dataclass(frozen=True)
class SolveMeasure(Measure):
    bands: list[str]
    puzzles: int
    halting: list[str]
    max_steps: list[int]
    tries: list[int] = field(default_factory=lambda: [1])
    depth: list[list[int]] = field(default_factory=list)

    @classmethod
    def from_file(cls, keys: dict[str, Any]) -> "SolveMeasure":
        measure = cls(**keys)
        if not (measure.bands and measure.halting and measure.max_steps and measure.tries) or measure.puzzles < 1:
            raise ValueError("a solve study needs bands, puzzles >= 1, halting and max_steps")
        if any(len(d) != 2 for d in measure.depth):
            raise ValueError("depth is a list of [T, n] pairs")
        return measure

    def with_puzzles(self, counts: list[int]) -> "SolveMeasure":
        if len(counts) != 1:
            raise ValueError("a solve study takes one puzzle count")
        return replace(self, puzzles=counts[0])

    def cells(self, models: list[str]) -> list[SolveCell]:
        depths = [tuple(d) for d in self.depth] or [None]
        return [SolveCell(m, b, h, s, t, d) for m in models for d in depths for b in self.bands for h in self.halting
                for s in self.max_steps for t in self.tries]

    def describe(self, cell: SolveCell) -> str:
        depth = f" T={cell.depth[0]} n={cell.depth[1]}" if cell.depth else ""
        return (f"{model_name(cell.model)}{depth}: {cell.band or 'test split'}, {cell.halting}, at most "
                f"{cell.max_steps} steps, {cell.tries} tr{'y' if cell.tries == 1 else 'ies'}")

    def rows(self, cell: SolveCell, work: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        metrics = run_evaluate(EvaluateJob(
            Path(cell.model), self.puzzles, cell.halting, band=cell.band or None, device="cpu",
            max_steps=cell.max_steps, tries=cell.tries, h_cycles=cell.depth[0] if cell.depth else None,
            l_cycles=cell.depth[1] if cell.depth else None))
        T, n = metrics["H_cycles"], metrics["L_cycles"]
        return [{"model": model_name(cell.model), "band": cell.band or "test split", "halting": cell.halting,
                 "max_steps": cell.max_steps, "tries": cell.tries, "depth": [T, n],
                 **{k: metrics[k] for k in KEPT if k in metrics},
                 "net_calls_per_puzzle": metrics["mean_steps"] * T * (n + 1),   # the compute: calls of the shared net
                 "seconds": round(time.perf_counter() - t0, 1)}]

    def line(self, row: dict[str, Any]) -> str:
        return f"exact {row['exact_accuracy']:.3f}, mean steps {row['mean_steps']:.2f}"

    def table(self, results: dict[str, Any]) -> str:
        lines = [results["study"]["question"], "",
                 "| model | T/n | band | halting | max steps | tries | puzzles | exact | verified wrong | mean steps "
                 "| net calls per puzzle | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["rows"]:
            wrong = r.get("verified_wrong", "-")
            lines.append(f"| {r['model']} | {r['depth'][0]}/{r['depth'][1]} | {r['band']} | {r['halting']} "
                         f"| {r['max_steps']} | {r['tries']} | {r['puzzles']} | {r['exact_accuracy']:.3f} | {wrong} "
                         f"| {r['mean_steps']:.2f} | {r['net_calls_per_puzzle']:.0f} | {r['seconds']:.1f} |")
        return "\n".join(lines) + "\n"
