"""Studies: one measured question written down as data (which models, which exports, how many puzzles), run by
one runner through the library's own export and parity check, into `results/<name>/{results.json, table.md}`.

A study file is TOML (`studies/<name>.toml`):

    title = "fp32 exports of the committed models"
    question = "Does each committed model's fp32 export pass its parity check at 10 and 200 puzzles?"
    models = ["models/sudoku9/checkpoint.pt"]
    parity_puzzles = [10, 200]
    [[variants]]
    target = "onnx"            # also: recursion, precision, h_cycles, l_cycles, options = {...}
"""
from __future__ import annotations

import datetime
import json
import platform
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..artifact import PARITY_FILE, folder_size, read_meta
from ..export.api import export_checkpoint
from ..files import replace_file
from ..progress import silent
from ..targets.precision import Precision

STUDIES = Path("studies")   # where `trm-edge study NAME` looks, relative to the working directory


class StudyError(ValueError):
    """A study file that cannot be run as written (one line for the user)."""


@dataclass(frozen=True)
class Variant:
    """One way to export a model: target, recursion mode, precision, depth and the target's own options."""

    target: str
    recursion: str = "step"
    precision: str | None = None        # None: the target's default
    h_cycles: int | None = None         # None: the checkpoint's recorded depth
    l_cycles: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    question: str
    models: list[str]
    variants: list[Variant]
    parity_puzzles: list[int]

    @classmethod
    def load(cls, path: Path) -> "Study":
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StudyError(f"{path}: {exc}") from None
        unknown = set(raw) - (set(cls.__dataclass_fields__) - {"name"})
        if unknown:
            raise StudyError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
        try:
            variants = [Variant(**v) for v in raw.pop("variants", [])]
            study = cls(name=path.stem, variants=variants, **raw)
        except TypeError as exc:
            raise StudyError(f"{path}: {exc}") from None
        if not study.models or not study.variants or not study.parity_puzzles:
            raise StudyError(f"{path}: a study needs models, variants and parity_puzzles")
        return study

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_study(name_or_path: str) -> Path:
    """A study file given as a path, or by name under studies/."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = STUDIES / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in STUDIES.glob("*.toml"))
        raise StudyError(f"no study at {path}" + (f" (studies here: {', '.join(known)})" if known else ""))
    return path


@dataclass
class StudyRun:
    """A study and where its results go (default results/<name>)."""

    study: Study
    out: Path
    command: str
    log: Callable[[str], None] = silent


def run_study(run: StudyRun) -> dict[str, Any]:
    """Every model x variant x puzzle count exported and checked; results.json and table.md written whole."""
    study, rows = run.study, []
    cells = [(m, v, n) for m in study.models for v in study.variants for n in study.parity_puzzles]
    with tempfile.TemporaryDirectory(prefix=f"study-{study.name}-") as work:
        for i, (model, variant, puzzles) in enumerate(cells):
            run.log(f"[{i + 1}/{len(cells)}] {_model_name(model)}: {variant.target} {variant.recursion} "
                    f"{variant.precision or 'default'}, parity on {puzzles} puzzles")
            rows.append(_parity_row(model, variant, puzzles, Path(work) / f"a{i}"))
            run.log("    " + _row_line(rows[-1]))
    results = {"study": study.to_dict(), "command": run.command, "created": f"{datetime.datetime.now():%Y-%m-%d %H:%M}",
               "host": {"machine": platform.machine(), "python": platform.python_version()}, "rows": rows}
    run.out.mkdir(parents=True, exist_ok=True)
    replace_file(run.out / "results.json", lambda tmp: tmp.write_text(json.dumps(results, indent=2) + "\n"))
    replace_file(run.out / "table.md", lambda tmp: tmp.write_text(parity_table(results)))
    return results


def _model_name(checkpoint: str) -> str:
    return Path(checkpoint).parent.name


def _parity_row(model: str, variant: Variant, puzzles: int, folder: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"model": _model_name(model), "target": variant.target, "recursion": variant.recursion,
                           "puzzles": puzzles}
    t0 = time.perf_counter()
    try:
        export_checkpoint(model, variant.target, folder, recursion=variant.recursion, quantize=variant.precision,
                          parity_puzzles=puzzles, h_cycles=variant.h_cycles, l_cycles=variant.l_cycles,
                          options=dict(variant.options))
    except Exception as exc:   # one failed cell is a row that says why, not a lost study
        return {**row, "status": "failed", "reason": f"export failed: {exc}".splitlines()[0]}
    meta = read_meta(folder)
    parity = json.loads((folder / PARITY_FILE).read_text())
    return {**row, "precision": Precision.label_of(meta.quantize), "depth": [meta.H_cycles, meta.L_cycles],
            "size_bytes": folder_size(folder, meta.model_file), "export_seconds": round(time.perf_counter() - t0, 1),
            **{k: parity[k] for k in PARITY_FIELDS if k in parity}}


PARITY_FIELDS = ("status", "reason", "teacher_forced", "exact_accuracy_artifact", "exact_accuracy_pytorch",
                 "paired_difference_95ci", "cell_agreement", "cell_agreement_judged", "cells_judged_on",
                 "weights_readback")   # where the runtime cannot run here: PyTorch with the artifact's own weights


def _row_line(row: dict[str, Any]) -> str:
    if "exact_accuracy_artifact" not in row:
        return f"{row['status']}: {row.get('reason', '')}"
    return (f"{row['status']}: exact {row['exact_accuracy_artifact']:.3f} vs PyTorch "
            f"{row['exact_accuracy_pytorch']:.3f}, judged cells {_pct(row.get('cell_agreement_judged'))}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _verdict(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The verdict in words and the figures behind it: a runtime that cannot run here (Core ML off macOS) is
    judged on its weights read back into PyTorch, and says so."""
    if row["status"] != "skipped":
        return row["status"], row
    said = "not run here: " + row.get("reason", "").split(" (")[0]
    readback = row.get("weights_readback")
    if readback is None:
        return said, {}
    return f"{said}; its weights read back into PyTorch: {'ok' if readback['within_budget'] else 'failed'}", readback


def parity_table(results: dict[str, Any]) -> str:
    """The study's rows as Markdown: the verdict first, then what it was judged on."""
    study = results["study"]
    lines = [f"{study['question']}", "",
             "| model | target | mode | precision | T/n | puzzles | verdict | one step (rel.) | exact: artifact / PyTorch "
             "| 95% interval (points) | cells on solved puzzles | all cells |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        step = (r.get("teacher_forced") or {}).get("max_rel_logit_diff")
        ci = r.get("paired_difference_95ci")
        verdict, shown = _verdict(r)
        exact = (f"{shown['exact_accuracy_artifact']:.3f} / {shown['exact_accuracy_pytorch']:.3f}"
                 if "exact_accuracy_artifact" in shown else "-")
        depth = "/".join(map(str, r["depth"])) if r.get("depth") else "-"
        lines.append(f"| {r['model']} | {r['target']} | {r['recursion']} | {r.get('precision', '-')} | {depth} "
                     f"| {r['puzzles']} | {verdict} | {'-' if step is None else f'{step:.0e}'} | {exact} "
                     f"| {'-' if ci is None else f'{100 * ci[0]:+.1f} to {100 * ci[1]:+.1f}'} "
                     f"| {_pct(r.get('cell_agreement_judged'))} | {_pct(shown.get('cell_agreement'))} |")
    return "\n".join(lines) + "\n"
