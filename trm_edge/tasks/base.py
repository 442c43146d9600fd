"""What every puzzle task answers, and the registry the rest of trm-edge asks instead of comparing task names.

A task owns its token codec, its puzzle text (parse and print), its rules check, its generator and difficulty bands,
its augmentations, its CSV rows and the codec description an app needs. Adding a task is one module that subclasses
`Task` and calls `register_task` (see `trm_edge/tasks/maze.py` for a short one).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data.views import GridView

if TYPE_CHECKING:   # types only
    from ..data.puzzles import DatasetMeta, PuzzleSet
    from ..data.spec import DataSpec


class Task(ABC):
    """One kind of puzzle. Grids are [side, side] integer arrays in the task's own values (digits, maze cells)."""

    name: str = ""
    solvable: bool = True          # `solve` can read, check and print its puzzles
    generated: bool = True         # it has a built-in generator (else data comes from --data-path)
    has_bands: bool = False        # held-out difficulty bands (`--band`) exist for its generator
    cell_joiner: str = ""          # between the cells of a printed row

    # --- tokens -------------------------------------------------------------------------------------------------
    @abstractmethod
    def encode(self, grid: np.ndarray) -> np.ndarray:
        """Grid -> one row of int64 tokens (what the model reads)."""

    @abstractmethod
    def decode(self, tokens: np.ndarray, side: int) -> np.ndarray:
        """Tokens -> grid (pad and blanks as the task's blank value)."""

    @abstractmethod
    def meta(self, side: int, count: int) -> DatasetMeta:
        """The dataset description of `count` puzzles of this side."""

    @abstractmethod
    def codec(self) -> dict:
        """How tokens map to cells, for an app that builds its own inputs (written into artifact metadata)."""

    # --- text and rules -----------------------------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str, side: int) -> np.ndarray:
        """Puzzle text -> grid for a model of this side (one-line ValueError otherwise)."""

    @abstractmethod
    def to_text(self, grid: np.ndarray) -> str:
        """The one-line text form of a grid (what `parse` reads back)."""

    @abstractmethod
    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> tuple[bool, bool]:
        """(the answer obeys every rule, it keeps every given of the puzzle)."""

    @abstractmethod
    def cell(self, puzzle: np.ndarray, answer: np.ndarray, r: int, c: int) -> tuple[str, bool]:
        """(the printed character of answer cell r, c; whether the puzzle gave it)."""

    # --- test-time tries ------------------------------------------------------------------------------------------
    verifies: bool = False         # its rules check can tell a right answer from a wrong one (else tries vote)

    def verify(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        """The rules accept `answer` as a solution of `puzzle` as given (valid, and keeps every given)."""
        valid, keeps = self.check(puzzle, answer)
        return valid and keeps

    def solution_count(self, puzzle: np.ndarray, limit: int = 2) -> int | None:
        """How many solutions the puzzle has, counted up to `limit`; None where the task cannot tell."""
        return None

    def view_count(self, side: int) -> int:
        """How many distinct views (copies) of a puzzle tries can use; 1: none but the puzzle itself."""
        return 1

    def view(self, side: int, copy: int) -> GridView:
        """Copy `copy` of a puzzle of this side (copy 0: the puzzle as given), by the rule in data/views.py."""
        return GridView.identity(side)

    def boxes(self, side: int) -> tuple[int, int] | None:
        """Box shape to draw separators for when printing, or None."""
        return None

    def shade(self, puzzle: np.ndarray, r: int, c: int) -> int:
        """How a picture of the puzzle colours cell r, c (the app's icon): 0 background, 1 ink, 2 accent."""
        return int(puzzle[r, c] != 0)

    # --- data ---------------------------------------------------------------------------------------------------
    def check_spec(self, spec: "DataSpec") -> None:
        """Refuse, before any work, a generated data spec this task cannot make."""
        if not self.generated:
            raise ValueError(f"the {self.name} task has no built-in generator: pass --data-path to its files")

    def generate(self, spec: "DataSpec", count: int, seed: int) -> PuzzleSet:
        raise ValueError(f"the {self.name} task has no built-in generator")

    def cache_key(self, spec: "DataSpec") -> str:
        """The part of a generated set's cache name that its generator options decide."""
        return ""

    def augment(self, ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
        """One fresh random augmentation of every row (none by default)."""
        return ps

    def csv_pair(self, question: str, answer: str, side: int) -> tuple[np.ndarray, np.ndarray]:
        """One row of an official CSV -> (input tokens, label tokens); ValueError for a bad row."""
        raise ValueError(f"the {self.name} task has no CSV format")

    def read_folder(self, path: Path, split: str) -> PuzzleSet | None:
        """Its own folder layout (ARC task files), or None to use the common formats."""
        return None


_TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Make a task known by its name (a later registration of the same name replaces it)."""
    _TASKS[task.name] = task
    return task


def task_names() -> list[str]:
    return list(_TASKS)


def get_task(name: str) -> Task:
    """The task called `name`; one-line error naming the known ones otherwise."""
    try:
        return _TASKS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(_TASKS)}") from None
