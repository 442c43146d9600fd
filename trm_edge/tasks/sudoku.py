"""Sudoku of any box shape (4x4, 6x6, 9x9): digits 0 (blank)..n, generated puzzles in givens bands."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import sudoku as rules
from ..data.puzzles import DatasetMeta, PuzzleSet
from ..data.views import GridView
from .base import Task, register_task

VIEWS = 1 << 31   # copies are drawn from a 32-bit seed: more than any number of tries

if TYPE_CHECKING:
    from ..data.spec import DataSpec


class Sudoku(Task):
    name = "sudoku"
    has_bands = True
    cell_joiner = " "

    def encode(self, grid: np.ndarray) -> np.ndarray:
        return rules.encode(grid)

    def decode(self, tokens: np.ndarray, side: int) -> np.ndarray:
        return rules.decode(tokens, side)

    def meta(self, side: int, count: int) -> DatasetMeta:
        return rules.meta(side, count)

    def codec(self) -> dict:
        return {"pad": 0, "blank": 1, "digit_token": "digit + 1"}

    def parse(self, text: str, side: int) -> np.ndarray:
        return rules.parse(text, side)

    def to_text(self, grid: np.ndarray) -> str:
        return rules.to_text(grid)

    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> tuple[bool, bool]:
        keeps = bool(np.all((puzzle == 0) | (puzzle == answer)))
        return bool((answer > 0).all() and rules.is_valid_solution(answer)), keeps

    def cell(self, puzzle: np.ndarray, answer: np.ndarray, r: int, c: int) -> tuple[str, bool]:
        return (str(int(answer[r, c])) if answer[r, c] else "."), bool(puzzle[r, c] != 0)

    verifies = True

    def solution_count(self, puzzle: np.ndarray, limit: int = 2) -> int | None:
        try:
            return rules.count_solutions(puzzle, limit)
        except ImportError:   # the search is compiled with numba, which a runtime-only install lacks
            return None

    def view_count(self, side: int) -> int:
        return VIEWS

    def view(self, side: int, copy: int) -> GridView:
        return rules.view(side, copy)

    def boxes(self, side: int) -> tuple[int, int]:
        return rules.box_shape(side)

    def check_spec(self, spec: "DataSpec") -> None:
        rules.box_shape(spec.grid_size)
        cells = spec.grid_size ** 2
        if spec.givens is not None and not 0 <= spec.givens[0] <= spec.givens[1] <= cells:
            raise ValueError(f"givens must be a range lo-hi within 0-{cells} for a {spec.grid_size}x{spec.grid_size} "
                             f"sudoku (got {spec.givens[0]}-{spec.givens[1]})")

    def generate(self, spec: "DataSpec", count: int, seed: int) -> PuzzleSet:
        return rules.to_puzzle_set(rules.generate(count, spec.grid_size, spec.difficulty, seed, spec.givens,
                                                  spec.grids))

    def cache_key(self, spec: "DataSpec") -> str:
        givens = f"-g{spec.givens[0]}_{spec.givens[1]}" if spec.givens else ""
        return givens + (f"-{spec.grids}" if spec.grids != "pattern" else "")

    def augment(self, ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
        return rules.augment_set(ps, rng)

    def csv_pair(self, question: str, answer: str, side: int) -> tuple[np.ndarray, np.ndarray]:
        rules.box_shape(side)
        q, a = rules.cells_to_grid(question, side), rules.cells_to_grid(answer, side)
        check_answer(q, a)
        return rules.encode(q), rules.encode(a)


def check_answer(question: np.ndarray, answer: np.ndarray) -> None:
    """An answer must be a complete valid grid that keeps every given."""
    if (answer == 0).any():
        raise ValueError(f"the answer has {int((answer == 0).sum())} blank cells")
    if not rules.is_valid_solution(answer):
        raise ValueError("the answer breaks a row, column or box rule")
    given = question != 0
    if (question[given] != answer[given]).any():
        raise ValueError("the answer changes a given of the question")


SUDOKU = register_task(Sudoku())
