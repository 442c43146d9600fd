"""Mazes in the official Maze-Hard characters `# SGo`: the answer marks a shortest path from S to G."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import maze as rules
from ..data.puzzles import DatasetMeta, PuzzleSet
from ..data.views import GridView
from .base import Task, register_task

if TYPE_CHECKING:
    from ..data.spec import DataSpec


class Maze(Task):
    name = "maze"

    def encode(self, grid: np.ndarray) -> np.ndarray:
        return grid.reshape(-1).astype(np.int64)

    def decode(self, tokens: np.ndarray, side: int) -> np.ndarray:
        return np.asarray(tokens).reshape(side, side)

    def meta(self, side: int, count: int) -> DatasetMeta:
        return rules.meta(side, count)

    def codec(self) -> dict:
        return {"pad": 0, "charset": rules.CHARSET, "char_token": "index in charset + 1"}

    def parse(self, text: str, side: int) -> np.ndarray:
        cells = "".join(text.split("\n"))
        if len(cells) != side ** 2:
            raise ValueError(f"a maze for this model has {side ** 2} cells; this one has {len(cells)}")
        grid = rules.from_text(cells, side)
        for value, name in ((rules.START, "start S"), (rules.GOAL, "goal G")):
            count = int((grid == value).sum())
            if count != 1:
                raise ValueError(f"a maze has exactly one {name} (this one has {count})")
        return grid

    def to_text(self, grid: np.ndarray) -> str:
        return rules.to_text(grid)

    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> tuple[bool, bool]:
        keeps = bool(np.all((answer == rules.PATH) | (answer == puzzle)))
        return rules.is_shortest_path_answer(puzzle, answer), keeps

    def cell(self, puzzle: np.ndarray, answer: np.ndarray, r: int, c: int) -> tuple[str, bool]:
        value = int(answer[r, c])
        text = rules.CHARSET[value - 1] if 1 <= value <= len(rules.CHARSET) else "?"
        return text, bool(puzzle[r, c] == answer[r, c])

    def shade(self, puzzle: np.ndarray, r: int, c: int) -> int:
        value = int(puzzle[r, c])
        return 1 if value == rules.WALL else 2 if value in (rules.START, rules.GOAL) else 0

    verifies = True

    def view_count(self, side: int) -> int:
        return 8   # the dihedral group the model was trained with (data.maze.augment_set)

    def view(self, side: int, copy: int) -> GridView:
        return rules.view(side, copy)

    def check_spec(self, spec: "DataSpec") -> None:
        if spec.grid_size < 5:
            raise ValueError(f"maze grid size must be at least 5 (got {spec.grid_size})")

    def generate(self, spec: "DataSpec", count: int, seed: int) -> PuzzleSet:
        return rules.to_puzzle_set(rules.generate(count, spec.grid_size, seed))

    def cache_key(self, spec: "DataSpec") -> str:
        return "-unique"   # sets made before shortest paths were unique are not reused

    def augment(self, ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
        return rules.augment_set(ps, rng)

    def csv_pair(self, question: str, answer: str, side: int) -> tuple[np.ndarray, np.ndarray]:
        return rules.from_text(question, side).reshape(-1), rules.from_text(answer, side).reshape(-1)


MAZE = register_task(Maze())
