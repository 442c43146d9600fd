"""Where a task's puzzles come from: the data spec a checkpoint records (the bottom layer: it names its task,
the task-aware loaders in `trm_edge.datasets` read it)."""
from __future__ import annotations

from dataclasses import dataclass

from ..limits import MAX_PUZZLES, check_count
from ..schema import check_types


@dataclass
class DataSpec:
    """Where a task's puzzles come from. With `path` unset, the built-in generator makes them."""

    task: str = "sudoku"
    grid_size: int = 4
    difficulty: float = 1.0
    train_puzzles: int = 1000
    test_puzzles: int = 200
    path: str | None = None
    seed: int = 0
    givens: tuple[int, int] | None = None   # sudoku: dig each puzzle to a clue count drawn from [lo, hi]
    grids: str = "varied"                   # sudoku solutions: "varied", or "pattern" (one grid up to symmetry)

    def __post_init__(self) -> None:
        """Refuse what a file or an option may not ask for (a spec of 10^12 puzzles would run for ever)."""
        check_types(self, "data spec")
        for name, top in (("train_puzzles", MAX_PUZZLES), ("test_puzzles", MAX_PUZZLES), ("grid_size", 100)):
            check_count(name.replace("_", " "), getattr(self, name), 0, top)
        if self.givens is not None:
            self.givens = (self.givens[0], self.givens[1])

    @classmethod
    def from_saved(cls, saved: dict) -> "DataSpec":
        """A spec stored in a checkpoint; ones saved before `grids` existed were made from one pattern."""
        if not isinstance(saved, dict):
            raise ValueError(f"the checkpoint's data_spec is a {type(saved).__name__}, not a mapping")
        known = {k: v for k, v in saved.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**{"grids": "pattern", **known})
        except TypeError as exc:
            raise ValueError(f"the checkpoint's data_spec does not fit ({exc})") from None
