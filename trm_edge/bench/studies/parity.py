"""The parity measure: each model exported each way (target, recursion, precision, depth, target options) and
checked by export's own parity check at each puzzle count.

    measure = "parity"
    parity_puzzles = [10, 200]  # [0]: sizes only (no parity check: untrained paper-size models)
    parity_band = "minimal"    # optional: generated puzzles of a band (or a list of bands) instead of the test split
    [[variants]]
    target = "onnx"            # also: recursion, precision, calibration, batch, h_cycles, l_cycles, options = {...}
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ...artifact import PARITY_FILE, folder_size, read_meta
from ...export.api import export_checkpoint
from ...export.naming import model_name
from ...targets.precision import Precision, internal
from .base import Measure, pct, register_measure


@dataclass(frozen=True)
class Variant:
    """One way to export a model: target, recursion mode, precision, depth and the target's own options."""

    target: str
    recursion: str = "step"
    precision: str | None = None        # None: the target's default
    h_cycles: int | None = None         # None: the checkpoint's recorded depth
    l_cycles: int | None = None
    batch: int = 1                      # rows the graph takes at once
    calibration: int = 0                # step inputs for static int8 (int8 with calibration is static int8)
    options: dict[str, Any] = field(default_factory=dict)

    def export(self, model: str, folder: Path, **how: Any) -> Path:
        """This variant of the model, exported into `folder` (`how`: export's other fields, e.g. parity_puzzles)."""
        return export_checkpoint(model, self.target, folder, recursion=self.recursion, quantize=self.precision,
                                 batch=self.batch, calibration=self.calibration, h_cycles=self.h_cycles,
                                 l_cycles=self.l_cycles, options=dict(self.options), **how)

    def exported_once(self, model: str, folder: Path) -> Path:
        """The variant's artifact in `folder`, exported the first time a study asks for it (no parity check: the
        measure that asks runs it and measures its answers)."""
        if not folder.exists():
            self.export(model, folder, parity_puzzles=0)
        return folder


@dataclass(frozen=True)
class ParityCell:
    model: str
    variant: Variant
    puzzles: int
    band: str | None = None


PARITY_FIELDS = ("status", "reason", "teacher_forced", "exact_accuracy_artifact", "exact_accuracy_pytorch",
                 "paired_difference_95ci", "cell_agreement", "cell_agreement_judged", "cells_judged_on",
                 "weights_readback")   # where the runtime cannot run here: PyTorch with the artifact's own weights


@register_measure("parity")
@dataclass(frozen=True)
class ParityMeasure(Measure):
    variants: list[Variant]
    parity_puzzles: list[int]
    parity_band: list[str | None] = field(default_factory=lambda: [None])   # None: the test split

    @classmethod
    def from_file(cls, keys: dict[str, Any]) -> "ParityMeasure":
        band = keys.get("parity_band")   # generated puzzles of one difficulty (or several) instead of the test split
        measure = cls([Variant(**v) for v in keys.get("variants", [])], list(keys.get("parity_puzzles", [])),
                      list(band) if isinstance(band, list) else [band])
        if not measure.variants or not measure.parity_puzzles or min(measure.parity_puzzles) < 0:
            raise ValueError("a parity study needs [[variants]] and parity_puzzles (0: sizes only, no parity check)")
        return measure

    def with_puzzles(self, counts: list[int]) -> "ParityMeasure":
        return replace(self, parity_puzzles=list(counts))

    def cells(self, models: list[str]) -> list[ParityCell]:
        return [ParityCell(m, v, n, b) for m in models for v in self.variants for b in self.parity_band
                for n in self.parity_puzzles]

    def describe(self, cell: ParityCell) -> str:
        v = cell.variant
        precision = internal(v.precision, v.calibration).label if v.precision else "default"
        checked = (f"parity on {cell.puzzles} {cell.band or 'test'} puzzles" if cell.puzzles
                   else "size only (no parity check)")
        return f"{model_name(cell.model)}: {v.target} {v.recursion} {precision}{_options(v.options)}, {checked}"

    def rows(self, cell: ParityCell, work: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
        v = cell.variant
        row: dict[str, Any] = {"model": model_name(cell.model), "target": v.target, "recursion": v.recursion,
                               "puzzles": cell.puzzles, "band": cell.band or "test split",
                               **({"options": dict(v.options)} if v.options else {})}
        t0 = time.perf_counter()
        try:
            v.export(cell.model, work, parity_puzzles=cell.puzzles, parity_band=cell.band)
        except Exception as exc:   # one failed cell is a row that says why, not a lost study
            return [{**row, "status": "failed", "reason": f"export failed: {exc}".splitlines()[0]}]
        meta = read_meta(work)
        parity = json.loads((work / PARITY_FILE).read_text()) if cell.puzzles else {"status": "size only"}
        return [{**row, "precision": Precision.label_of(meta.quantize), "depth": [meta.H_cycles, meta.L_cycles],
                 "size_bytes": folder_size(work, meta.model_file), "export_seconds": round(time.perf_counter() - t0, 1),
                 **{k: parity[k] for k in PARITY_FIELDS if k in parity}}]

    def line(self, row: dict[str, Any]) -> str:
        if "exact_accuracy_artifact" not in row:
            return f"{row['status']}: {row.get('reason', _megabytes(row))}"
        return (f"{row['status']}: exact {row['exact_accuracy_artifact']:.3f} vs PyTorch "
                f"{row['exact_accuracy_pytorch']:.3f}, judged cells {pct(row.get('cell_agreement_judged'))}")

    def table(self, results: dict[str, Any]) -> str:
        """The rows as Markdown: the verdict first, then what it was judged on."""
        lines = [results["study"]["question"], "",
                 "| model | target | mode | precision | T/n | size | size / int8 | puzzles | verdict | one step (rel.) "
                 "| exact: artifact / PyTorch | 95% interval (points) | cells on solved puzzles | all cells |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        int8_sizes = _int8_sizes(results["rows"])
        for r in results["rows"]:
            step = (r.get("teacher_forced") or {}).get("max_rel_logit_diff")
            ci = r.get("paired_difference_95ci")
            verdict, shown = _verdict(r)
            exact = (f"{shown['exact_accuracy_artifact']:.3f} / {shown['exact_accuracy_pytorch']:.3f}"
                     if "exact_accuracy_artifact" in shown else "-")
            depth = "/".join(map(str, r["depth"])) if r.get("depth") else "-"
            int8 = int8_sizes.get(_export_kind(r))
            ratio = f"{r['size_bytes'] / int8:.2f}" if int8 and "size_bytes" in r else "-"
            precision = r.get("precision", "-") + _options(r.get("options", {}))
            lines.append(f"| {r['model']} | {r['target']} | {r['recursion']} | {precision} | {depth} "
                         f"| {_megabytes(r)} | {ratio} | {_puzzles(r)} | {verdict} "
                         f"| {'-' if step is None else f'{step:.0e}'} | {exact} "
                         f"| {'-' if ci is None else f'{100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}'} "
                         f"| {pct(r.get('cell_agreement_judged'))} | {pct(shown.get('cell_agreement'))} |")
        return "\n".join(lines) + "\n"


def _megabytes(row: dict[str, Any]) -> str:
    return f"{row['size_bytes'] / 1e6:.2f} MB" if "size_bytes" in row else "-"


def _export_kind(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a row exports apart from its precision: rows of one kind differ only in how the weights are stored."""
    return row["model"], row["target"], row["recursion"], tuple(row.get("depth") or ())


def _int8_sizes(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], int]:
    """The (dynamic) int8 export's size of each kind of export in the study: the yardstick of the size column."""
    return {_export_kind(r): r["size_bytes"] for r in rows
            if r.get("precision") == Precision.INT8.label and "size_bytes" in r}


def _puzzles(row: dict[str, Any]) -> str:
    """How many puzzles, and of which band when they are generated ones: '1000 minimal', '200 with 30-45 givens',
    '200' (the test split)."""
    band = row.get("band", "test split")
    if not row["puzzles"]:
        return "-"
    if band == "test split":
        return f"{row['puzzles']}"
    return f"{row['puzzles']} with {band} givens" if band[:1].isdigit() else f"{row['puzzles']} {band}"


def _options(options: dict[str, Any]) -> str:
    """A variant's target options as a reader sees them after its precision: ' (w16-weights mlp.down_proj)'."""
    said = [k if v is True else f"{k} {v}" for k, v in options.items()]   # a switch is named, not "ort True"
    return f" ({', '.join(said)})" if said else ""


def _verdict(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The verdict in words and the figures behind it: a runtime that cannot run here (Core ML off macOS) is
    judged on its weights read back into PyTorch, and says so (its status is then the read-back's verdict)."""
    readback = row.get("weights_readback")
    if "exact_accuracy_artifact" in row or (readback is None and row["status"] != "skipped"):
        return row["status"], row
    said = "not run here" + (": " + row.get("reason", "").split(" (")[0] if row["status"] == "skipped" else "")
    if readback is None:
        return said, {}
    return f"{said}; its weights read back into PyTorch: {'ok' if readback['within_budget'] else 'failed'}", readback
