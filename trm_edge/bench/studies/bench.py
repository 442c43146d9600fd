"""The bench measure: each model's exports (made once per study, no parity check) benched together by `trm-edge
bench`'s own harness, beside PyTorch, once per step limit: latency or (throughput) puzzles/s against the official
evaluation, accuracy, size, share of the GEMM peak.

    measure = "bench"
    puzzles = 100
    band = "minimal"                 # optional: generated puzzles of one difficulty instead of the test split
    threads = [1]
    halting = ["stable-2"]
    max_steps = [16, 32]             # optional: one bench run per limit (default: the trained N_sup)
    throughput = true                # optional: each row solves every puzzle in one streamed call
    large_batch = 64                 # optional: the PyTorch rows' second batch size
    repeats = 8                      # optional: timed step calls a row, within budget_s seconds
    budget_s = 2.0
    [[variants]]                     # none: the PyTorch rows alone
    target = "executorch"            # the parity measure's variant keys, and batch
    precision = "int8"
    batch = 8
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ...export.naming import model_name
from ...targets.precision import Precision
from ..columns import COLUMN, values
from ..harness import BenchRequest, run_bench
from .base import Measure, register_measure
from .parity import Variant

KEPT = ("runtime", "precision", "recursion", "batch", "threads", "halting", "status", "size_kb", "computes_in")
SHOWN = ("exact_accuracy", "mean_steps", "step_ms", "puzzles_per_s", "memory_mb", "x_official_eval",
         "limit_x_official_eval", "percent_of_peak")   # the bench's own columns, read and printed as it does
DERIVED = ("fraction_of_peak", "achieved_gflops", "peak_precision", "peak_gflops", "peak_set_by")


@dataclass(frozen=True)
class BenchCell:
    model: str
    max_steps: int | None


@register_measure("bench")
@dataclass(frozen=True)
class BenchMeasure(Measure):
    variants: list[Variant]
    puzzles: int
    band: str | None = None
    threads: list[int] = field(default_factory=lambda: [1])
    halting: list[str] = field(default_factory=lambda: ["stable-2"])
    max_steps: list[int] = field(default_factory=list)
    throughput: bool = False
    large_batch: int = 64
    repeats: int = 8                    # timed step calls a row (after warm-up), within budget_s
    budget_s: float = 2.0               # seconds of warm-up and timing a row (paper size: fewer calls, not minutes)

    @classmethod
    def from_file(cls, keys: dict[str, Any]) -> "BenchMeasure":
        keys = dict(keys)
        measure = cls([Variant(**v) for v in keys.pop("variants", [])], **keys)   # none: PyTorch rows only
        for steps in measure.max_steps or [None]:
            measure.request([], Path("."), steps)   # the bench's own checks, before any export
        return measure

    def request(self, artifacts: list[Path], checkpoint: Path, max_steps: int | None) -> BenchRequest:
        """What one cell asks `trm-edge bench` for (checked as the command checks it)."""
        return BenchRequest(artifacts, self.threads, device="cpu", puzzles=self.puzzles, halting=self.halting,
                            checkpoint=checkpoint, large_batch=self.large_batch, repeats=self.repeats,
                            budget_s=self.budget_s,
                            max_steps=max_steps, throughput=self.throughput, band=self.band).checked()

    def with_puzzles(self, counts: list[int]) -> "BenchMeasure":
        if len(counts) != 1:
            raise ValueError("a bench study takes one puzzle count")
        return replace(self, puzzles=counts[0])

    def cells(self, models: list[str]) -> list[BenchCell]:
        return [BenchCell(m, s) for m in models for s in (self.max_steps or [None])]

    def describe(self, cell: BenchCell) -> str:
        steps = f"at most {cell.max_steps} steps" if cell.max_steps else "the trained step limit"
        return f"{model_name(cell.model)}: {len(self.variants)} exports and PyTorch benched, {steps}"

    def rows(self, cell: BenchCell, work: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
        """One bench run: every export and the PyTorch rows (the official evaluation among them with throughput)."""
        folders = [v.exported_once(cell.model, work.parent / f"{model_name(cell.model)}-v{i}")
                   for i, v in enumerate(self.variants)]
        result = run_bench(self.request(folders, Path(cell.model), cell.max_steps), log=lambda m: log("    " + m))
        said = {"model": model_name(cell.model), "max_steps": cell.max_steps, "puzzles": result["puzzles"]}
        return [said | _figures(r) for r in result["rows"]]

    def line(self, row: dict[str, Any]) -> str:
        threads = f", {row['threads']} thread{'s' if row['threads'] > 1 else ''}" if len(self.threads) > 1 else ""
        said = (f"{row['runtime']} {row['recursion']} {Precision.label_of(row['precision'])} "
                f"batch {row['batch']}{threads}, {row['halting']}: ")
        if row["status"] != "ok" or row.get("puzzles_per_s") is None:
            return said + row["status"]
        return said + f"exact {row['exact_accuracy']:.3f}, {row['puzzles_per_s']:.1f} puzzles/s"

    def table(self, results: dict[str, Any]) -> str:
        lines = [results["study"]["question"], "",
                 "| model | max steps | runtime | mode | precision | batch | threads | halting | exact | mean steps "
                 "| step ms | puzzles/s | +MB | x official eval | limit x | share of peak |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["rows"]:
            head = (f"| {r['model']} | {r['max_steps'] or 'trained'} | {r['runtime']} | {r['recursion']} "
                    f"| {Precision.label_of(r['precision'])} | {r['batch']} | {r['threads']} | {r['halting']} ")
            if r["status"] != "ok" or r.get("exact_accuracy") is None:
                lines.append(head + f"| {r['status']} |" + " |" * (len(SHOWN) - 1))
                continue
            lines.append(head + "| " + " | ".join(COLUMN[k].format(r.get(k)) for k in SHOWN) + " |")
        return "\n".join(lines + _peaks(results["rows"])) + "\n"


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    """What a study keeps of one bench row (bench.json's form)."""
    shown = values(row)
    return {**{k: row.get(k) for k in KEPT}, **{k: shown[k] for k in SHOWN},
            **{k: row["derived"].get(k) for k in DERIVED}}


def _peaks(rows: list[dict[str, Any]]) -> list[str]:
    """The GEMM peaks the rows' shares are taken of, once per bench run (a model at a step limit): precision,
    threads, rate and the kernel that set it."""
    runs: dict[tuple[str, Any], dict[tuple[str, int], str]] = {}
    for r in rows:
        if r.get("peak_gflops"):
            t = r["threads"]
            runs.setdefault((r["model"], r["max_steps"]), {})[r["peak_precision"], t] = (
                f"{Precision.label_of(r['peak_precision'])} on {t} thread{'s' if t > 1 else ''} "
                f"{r['peak_gflops']:.0f} G(FL)OP/s ({r.get('peak_set_by') or '?'})")
    if not runs:
        return []
    said = [("" if len(runs) == 1 else f"{model}{f' at most {steps} steps' if steps else ''}: ")
            + ", ".join(peaks.values()) for (model, steps), peaks in runs.items()]
    return ["", "GEMM peaks, measured in each bench run on the step's own shapes (a row's share of peak is its rate "
            "over its precision's): " + "; ".join(said) + "."]
