"""Views of a puzzle for test-time tries: copy k of a puzzle is the puzzle under a validity-preserving transform
drawn by a documented deterministic rule, so Python, the web page and the Android core try the same copies in
the same order (never numpy's generator, whose streams no other language reproduces).

The rule: copy 0 is the puzzle as given. Copy k >= 1 draws from mulberry32 seeded with k (32-bit unsigned
arithmetic, below), and an integer below m is `next() % m`. A permutation of n items is Fisher-Yates from the
top: for i = n-1 down to 1, j = next() % (i+1), swap items i and j. Each task says which draws it makes, in order
(Sudoku: `data.sudoku.view`; maze: `data.maze.view`; ARC: `data.arc.view`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

MASK = 0xFFFFFFFF


def mulberry32(seed: int) -> Iterator[int]:
    """A 32-bit generator small enough to write identically in JavaScript and Java."""
    a = seed & MASK
    while True:
        a = (a + 0x6D2B79F5) & MASK
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & MASK
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & MASK)) & MASK
        yield (t ^ (t >> 14)) & MASK


def permutation(rng: Iterator[int], n: int) -> np.ndarray:
    """A permutation of range(n), Fisher-Yates from the top."""
    items = list(range(n))
    for i in range(n - 1, 0, -1):
        j = next(rng) % (i + 1)
        items[i], items[j] = items[j], items[i]
    return np.array(items, dtype=np.int64)


@dataclass(frozen=True)
class GridView:
    """One view of a square grid: rows and columns reordered, then maybe transposed, then cell values relabelled
    (`values[v]` is the new value of v). `undo` maps an answer of the view back to the puzzle as given."""

    rows: np.ndarray
    cols: np.ndarray
    transpose: bool = False
    values: Optional[np.ndarray] = None

    @classmethod
    def identity(cls, side: int) -> "GridView":
        order = np.arange(side)
        return cls(order, order)

    def apply(self, grid: np.ndarray) -> np.ndarray:
        g = grid[np.ix_(self.rows, self.cols)]
        g = g.T if self.transpose else g
        return self.values[g] if self.values is not None else g.copy()

    def undo(self, grid: np.ndarray) -> np.ndarray:
        g = np.argsort(self.values)[grid] if self.values is not None else grid
        g = g.T if self.transpose else g
        out = np.empty_like(g)
        out[np.ix_(self.rows, self.cols)] = g
        return out
