"""Studies: one measured question written down as data (which models, and what to measure on them), run by one
runner through the library's own paths (export's parity check, evaluate's solve), into
`results/<name>/{results.json, table.md}`, which the docs' results pages read.

A study file is TOML (`studies/<name>.toml`): `title`, `question`, `models` (checkpoints) and `measure`, then the
measure's own keys (`parity`: studies/parity.py; `solve`: studies/solve.py; `tries`: studies/tries.py; `bench`:
studies/bench.py). A new measure is one module here.
"""
from __future__ import annotations

import datetime
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ...progress import silent
from ..report import write_results
from . import bench, parity, solve, tries
from .base import MEASURES, Study, StudyError

__all__ = ["MEASURES", "Study", "StudyError", "StudyRun", "find_study", "run_study", "bench", "parity", "solve",
           "tries"]
STUDIES = Path("studies")   # where `trm-edge study NAME` looks, relative to the working directory


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
    """Every cell of the study measured, one row each; results.json and table.md written whole at the end."""
    how, rows = run.study.how, []
    run.study.check_models()   # one line up front, not a failed row per cell after minutes of work
    with tempfile.TemporaryDirectory(prefix=f"study-{run.study.name}-") as work:
        cells = how.cells(run.study.checkpoints(Path(work)))
        for i, cell in enumerate(cells):
            run.log(f"[{i + 1}/{len(cells)}] {how.describe(cell)}")
            measured = how.rows(cell, Path(work) / f"cell{i}", run.log)
            rows += measured
            for row in measured:
                run.log("    " + how.line(row))
    results = {"study": run.study.to_dict(), "command": run.command,
               "created": f"{datetime.datetime.now():%Y-%m-%d %H:%M}",
               "host": {"machine": platform.machine(), "python": platform.python_version()}, "rows": rows}
    results.update(how.finish(results, run.out))
    write_results(run.out, results, how.table(results))
    return results
