"""Where a study's puzzles come from, written in the study file as a small table:

    sources = [{band = "minimal"}, {band = "minimal", technique = "beyond_singles"}, {band = "30-36"},
               {split = "test"}, {file = "top95.txt"}]

a generated difficulty band of the model's task (optionally only the puzzles the technique rater puts at or above
a technique), the model's own held-out split, or a file of puzzles, read as `trm-edge solve --file` reads one
(runtime.solver.puzzle_lines), with lines whose first word does not parse as a puzzle (a count, a comment) passed
over. A file's puzzles are judged by the rules alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...data.sudoku import Technique, rate
from ...datasets import DataSpec, held_out
from ...model.checkpoint import load_checkpoint
from ...runtime.solver import puzzle_lines
from ...tasks import get_task


@dataclass(frozen=True)
class PuzzleSource:
    band: str | None = None          # a generated band: 'minimal' or 'LO-HI' givens
    technique: str | None = None     # with a band: keep puzzles rated at least this (Sudoku: data.sudoku.Technique)
    split: str | None = None         # 'test': the model's own held-out split
    file: str | None = None          # a puzzle file (relative to the working directory)

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.band, self.split, self.file)) != 1:
            raise ValueError(f"a source is one of band, split or file (got {self})")
        if self.split not in (None, "test"):
            raise ValueError(f"split can only be 'test' (got {self.split!r})")
        if self.technique is not None:
            if self.band is None:
                raise ValueError("technique narrows a generated band: give it with band")
            if self.technique.upper() not in Technique.__members__:
                raise ValueError(f"technique must be one of {', '.join(t.lower() for t in Technique.__members__)} "
                                 f"(got {self.technique!r})")

    @property
    def label(self) -> str:
        if self.file:
            return Path(self.file).name
        if self.split:
            return "held-out split"
        band = f"{self.band} givens" if "-" in self.band else self.band
        return band + (f", {self.technique.replace('_', ' ')}" if self.technique else "")


@dataclass(frozen=True)
class Puzzles:
    grids: list[np.ndarray]
    labels: list[np.ndarray | None]     # None: judged by the rules alone (a file)


def load_puzzles(model: str, source: PuzzleSource, count: int) -> Puzzles:
    """Up to `count` puzzles of the source for the model's task and size (a file is read whole)."""
    return _load(str(model), source, count)


@lru_cache(maxsize=16)
def _load(model: str, source: PuzzleSource, count: int) -> Puzzles:
    spec = DataSpec.from_saved(load_checkpoint(Path(model)).info["data_spec"])
    task, side = get_task(spec.task), spec.grid_size
    if source.file:
        path = Path(source.file)
        if not path.is_file():
            raise FileNotFoundError(f"no puzzle file at {path} (public lists are not shipped: put it there)")
        grids = [g for g in (_parsed(task, question, side) for _, question, _ in puzzle_lines(path)) if g is not None]
        return Puzzles(grids, [None] * len(grids))
    if source.technique:
        if spec.task != "sudoku":
            raise ValueError(f"technique ratings are Sudoku's ({model} solves {spec.task})")
        least = Technique[source.technique.upper()]
        data = held_out(spec, 4 * count, source.band)   # the rater keeps about a third of minimal ones
        rows = [i for i in range(len(data)) if rate(task.decode(data.inputs[i], side)).technique >= least][:count]
    else:
        data = held_out(spec, count, source.band)
        rows = list(range(len(data)))
    return Puzzles([task.decode(data.inputs[i], side) for i in rows], [task.decode(data.labels[i], side) for i in rows])


def _parsed(task, question: str, side: int) -> np.ndarray | None:
    words = question.split()
    if not words:
        return None
    try:
        return task.parse(words[0], side)
    except ValueError:
        return None
