"""The plain in-memory dataset type shared by generators, file formats, training and benchmarks."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class DatasetMeta:
    """Fields of the official `dataset.json`, plus the task that decodes the tokens."""

    vocab_size: int
    seq_len: int
    pad_id: int = 0
    ignore_label_id: int | None = 0
    blank_identifier_id: int = 0
    num_puzzle_identifiers: int = 1
    total_groups: int = 0
    mean_puzzle_examples: float = 1.0
    total_puzzles: int = 0
    sets: list[str] = field(default_factory=lambda: ["all"])
    task: str = "sudoku"
    grid_shape: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["grid_shape"] = list(self.grid_shape) if self.grid_shape else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetMeta":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if known.get("grid_shape") is not None:
            known["grid_shape"] = tuple(known["grid_shape"])
        return cls(**known)


@dataclass
class PuzzleSet:
    """Token arrays of a set of puzzles: one row per example."""

    inputs: np.ndarray               # [N, seq_len] int
    labels: np.ndarray               # [N, seq_len] int (ignore_label_id where no target)
    puzzle_identifiers: np.ndarray   # [N] int
    meta: DatasetMeta

    def __post_init__(self) -> None:
        n = len(self.inputs)
        if self.inputs.ndim != 2 or self.labels.shape != self.inputs.shape:
            raise ValueError(f"inputs {self.inputs.shape} and labels {self.labels.shape} must both be [N, seq_len]")
        if self.inputs.shape[1] != self.meta.seq_len:
            raise ValueError(f"rows have {self.inputs.shape[1]} tokens, metadata says seq_len {self.meta.seq_len}")
        if self.puzzle_identifiers.shape != (n,):
            raise ValueError(f"puzzle_identifiers {self.puzzle_identifiers.shape} must be [{n}]")
        hi = max(int(self.inputs.max(initial=0)), int(self.labels.max(initial=0)))
        if hi >= self.meta.vocab_size:
            raise ValueError(f"token {hi} outside vocab of size {self.meta.vocab_size}")

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, index: np.ndarray | slice) -> "PuzzleSet":
        return PuzzleSet(self.inputs[index], self.labels[index], self.puzzle_identifiers[index], self.meta)


def exact_accuracy(predictions: np.ndarray, labels: np.ndarray, ignore_label_id: int | None = 0) -> np.ndarray:
    """Per-puzzle bool: every labelled cell predicted correctly."""
    mask = np.ones_like(labels, dtype=bool) if ignore_label_id is None else labels != ignore_label_id
    return np.all((predictions == labels) | ~mask, axis=-1)
