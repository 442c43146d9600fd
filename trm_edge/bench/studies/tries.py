"""The tries measure: verified test-time compute. Each model, run by PyTorch and by each export of it, solves each
puzzle source with up to K copies checked by the rules (the runtime API's `solve_batch`, what `trm-edge solve` and
the apps run), for each halting rule, step limit and K; one thread; the model's recorded depth.

    measure = "tries"
    sources = [{band = "minimal"}, {file = "top95.txt"}]     # studies/sources.py
    puzzles = 200                      # per generated source (a file is read whole)
    halting = ["valid-2"]
    max_steps = [16, 32, 64]
    tries = [1, 2, 4, 8, 16, 32]
    [[runs]]                           # PyTorch: no target
    [[runs]]
    target = "executorch"              # an export (the parity measure's variant keys), with its own
    precision = "int8"                 # max_steps / tries where fewer rows are enough
    tries = [1, 8, 32]

A row's accuracy counts right answers (a file's puzzles: valid grids keeping every given); `verified_wrong`
counts answers the rules accepted that differ from the label (must be 0); steps count every copy run; a
puzzle's time (median and p95 ms) is its share of the calls it rode in: for a batch-1 artifact the time a user
waits for it, for a batched runtime (PyTorch streams 64 puzzles a call) its share of the batch's time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...artifact import read_meta
from ...export.naming import model_name
from ...host_loop import Halting
from ...model.checkpoint import load_checkpoint, record_settings
from ...settings import InferenceSettings
from ...runtime.solver import Source, open_chosen, solve_batch, with_max_steps
from ...targets.precision import Precision
from .base import RUN_STATE, Measure, register_measure
from .parity import Variant
from .sources import PuzzleSource, Puzzles, load_puzzles


@dataclass(frozen=True)
class Run:
    """One way to run the model: PyTorch (`variant` None) or an export, with the step limits and tries it runs
    (None: the study's)."""

    variant: Variant | None = None
    max_steps: list[int] | None = None
    tries: list[int] | None = None

    @classmethod
    def from_file(cls, keys: dict[str, Any]) -> "Run":
        keys = dict(keys)
        max_steps, tries = keys.pop("max_steps", None), keys.pop("tries", None)
        return cls(Variant(**keys) if keys else None, max_steps, tries)


@dataclass(frozen=True)
class TriesCell:
    model: str
    run: int             # index into the study's runs
    source: PuzzleSource
    halting: str
    max_steps: int
    tries: int


@register_measure("tries")
@dataclass(frozen=True)
class TriesMeasure(Measure):
    sources: list[PuzzleSource]
    puzzles: int
    halting: list[str]
    max_steps: list[int]
    tries: list[int]
    runs: list[Run] = field(default_factory=lambda: [Run()])
    record_on: list[str] = field(default_factory=list)   # source labels: record the best PyTorch setting on them
    # this study run's runtimes, each opened (and warmed) once: (model, folder) -> source
    opened: dict[tuple[str, Path], Source] = field(default_factory=dict, init=False, repr=False, compare=False,
                                                   metadata=RUN_STATE)

    @classmethod
    def from_file(cls, keys: dict[str, Any]) -> "TriesMeasure":
        keys = dict(keys)
        sources = [PuzzleSource(**s) for s in keys.pop("sources", [])]
        runs = [Run.from_file(r) for r in keys.pop("runs", [{}])]
        measure = cls(sources, runs=runs, **keys)
        if not (sources and measure.halting and measure.max_steps and measure.tries) or measure.puzzles < 1:
            raise ValueError("a tries study needs sources, puzzles >= 1, halting, max_steps and tries")
        for rule in measure.halting:
            Halting.parse(rule)
        unknown = set(measure.record_on) - {s.label for s in sources}
        if unknown:
            raise ValueError(f"record_on names sources the study does not have: {', '.join(sorted(unknown))}")
        return measure

    def with_puzzles(self, counts: list[int]) -> "TriesMeasure":
        if len(counts) != 1:
            raise ValueError("a tries study takes one puzzle count")
        return replace(self, puzzles=counts[0])

    def cells(self, models: list[str]) -> list[TriesCell]:
        return [TriesCell(m, i, s, h, k_steps, k) for m in models for i, run in enumerate(self.runs)
                for s in self.sources for h in self.halting for k_steps in (run.max_steps or self.max_steps)
                for k in (run.tries or self.tries)]

    def describe(self, cell: TriesCell) -> str:
        return (f"{model_name(cell.model)} {_run_name(self.runs[cell.run])}: {cell.source.label}, {cell.halting}, "
                f"at most {cell.max_steps} steps, {cell.tries} tr{'y' if cell.tries == 1 else 'ies'}")

    def rows(self, cell: TriesCell, work: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
        row: dict[str, Any] = {"model": model_name(cell.model), "source": cell.source.label, "halting": cell.halting,
                               "max_steps": cell.max_steps, "tries": cell.tries}
        try:
            puzzles = load_puzzles(cell.model, cell.source, self.puzzles)
            source = self._opened(cell.model, self.runs[cell.run],
                                  work.parent / f"{model_name(cell.model)}-run{cell.run}")
        except (OSError, ValueError) as exc:   # a missing list or a failed export: a row says why
            return [{**row, "runtime": _run_name(self.runs[cell.run]), "status": "skipped", "reason": str(exc)}]
        return [{**row, "runtime": source.label, "depth": list(source.depth), "status": "ok",
                 **_solved(with_max_steps(source, cell.max_steps), puzzles, cell)}]

    def _opened(self, model: str, run: Run, folder: Path) -> Source:
        """The model as this run runs it, one thread, at its recorded depth: PyTorch, or its export (made once per
        study, into `folder`; no parity check: its answers are what the rows measure, and a parity check would
        load the runtime at another thread count first, which ExecuTorch cannot change afterwards in one
        process)."""
        key = (model, folder)    # the folder is the study run's own
        if key not in self.opened:
            self.opened[key] = _open(model, run, folder)
        return self.opened[key]

    def line(self, row: dict[str, Any]) -> str:
        if row["status"] != "ok":
            return f"{row['status']}: {row['reason']}"
        return (f"accuracy {row['accuracy']:.3f} (verified wrong {row['verified_wrong']}), mean steps "
                f"{row['mean_steps']:.1f}, {row['puzzles_per_s']:.1f} puzzles/s")

    def finish(self, results: dict[str, Any], out: Path) -> dict[str, Any]:
        """With `record_on`: each model's best PyTorch setting on those sources (most right answers over them
        together, then fewest mean steps) recorded in its checkpoint, naming this results file."""
        self.opened.clear()   # the study's runtimes are done with
        if not self.record_on:
            return {}
        recorded = {}
        for model in results["study"]["models"]:
            best = _best(model_name(model), results["rows"], self.record_on)
            kept = load_checkpoint(model).settings or InferenceSettings()   # the depth it ran at stays
            settings = replace(kept, **best, measured_by=str(out / "results.json"))
            record_settings(model, settings)
            recorded[model] = settings.to_dict()
        return {"recorded": recorded}

    def table(self, results: dict[str, Any]) -> str:
        lines = [results["study"]["question"], "",
                 "| model | source | runtime | halting | max steps | tries | puzzles | accuracy | verified wrong "
                 "| mean steps | p95 steps | median ms | p95 ms | puzzles/s |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["rows"]:
            head = (f"| {r['model']} | {r['source']} | {r['runtime']} | {r['halting']} | {r['max_steps']} "
                    f"| {r['tries']} ")
            if r["status"] != "ok":
                lines.append(head + f"| {r['status']}: {r['reason']} |" + " |" * 7)
                continue
            lines.append(head + f"| {r['puzzles']} | {r['accuracy']:.3f} | {r['verified_wrong']} "
                                f"| {r['mean_steps']:.1f} | {r['p95_steps']:.0f} | {r['median_ms']:.1f} "
                                f"| {r['p95_ms']:.0f} | {r['puzzles_per_s']:.1f} |")
        for model, rec in results.get("recorded", {}).items():
            lines += ["", f"Recorded in `{model}` as its settings (the best PyTorch row over "
                          f"{', '.join(self.record_on)}): {_depth(rec)}, {rec['halting']} "
                          f"halting, at most {rec['max_steps']} steps, {rec['tries']} tries."]
        return "\n".join(lines) + "\n"


def _run_name(run: Run) -> str:
    v = run.variant
    return "pytorch" if v is None else f"{v.target} {v.recursion} {v.precision or 'default'}"


def _open(model: str, run: Run, folder: Path) -> Source:
    if run.variant is not None:
        source, _ = open_chosen(run.variant.exported_once(model, folder), threads=1)
        meta = read_meta(folder)
        return replace(source, label=f"{meta.target} {meta.recursion} {Precision.label_of(meta.quantize)}")
    source, _ = open_chosen(Path(model), threads=1)
    return replace(source, label="pytorch")


def _solved(source: Source, puzzles: Puzzles, cell: TriesCell) -> dict[str, Any]:
    solve_batch(with_max_steps(source, 1), puzzles.grids[:1], Halting.parse("fixed"))   # warm-up, untimed
    t0 = time.perf_counter()
    answers = solve_batch(source, puzzles.grids, Halting.parse(cell.halting), expected=puzzles.labels,
                          tries=cell.tries)
    seconds = time.perf_counter() - t0
    steps = np.array([a.steps for a in answers])
    ms = 1000 * np.array([a.seconds for a in answers])
    verified = [a.valid and a.keeps_givens for a in answers]
    right = [v if a.correct is None else a.correct for a, v in zip(answers, verified)]
    return {"puzzles": len(answers), "accuracy": float(np.mean(right)), "verified": float(np.mean(verified)),
            "verified_wrong": int(sum(v and not r for v, r in zip(verified, right))),
            "mean_steps": float(steps.mean()), "p95_steps": float(np.percentile(steps, 95)),
            "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "puzzles_per_s": len(answers) / seconds}


def _best(model: str, rows: list[dict[str, Any]], sources: list[str]) -> dict[str, Any]:
    score: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if r["model"] == model and r["runtime"] == "pytorch" and r["source"] in sources and r["status"] == "ok":
            score.setdefault((r["halting"], r["max_steps"], r["tries"]), []).append(r)
    if not score:
        raise ValueError(f"no PyTorch row of {model} on {', '.join(sources)} to record settings from")
    (halting, max_steps, tries), part = min(score.items(), key=lambda kv: (
        -sum(r["accuracy"] * r["puzzles"] for r in kv[1]), sum(r["mean_steps"] for r in kv[1])))
    return {"halting": halting, "max_steps": max_steps, "tries": tries}


def _depth(settings: dict[str, Any]) -> str:
    return (f"T={settings['h_cycles']}, n={settings['l_cycles']}" if settings["h_cycles"] else "the trained depth")
