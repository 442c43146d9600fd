"""Puzzle data: generators and rules per puzzle, puzzle sets, data specs, accuracy (task-aware loading is in
`trm_edge.datasets`)."""
from .puzzles import DatasetMeta, PuzzleSet, exact_accuracy
from .spec import DataSpec

__all__ = ["DatasetMeta", "PuzzleSet", "DataSpec", "exact_accuracy"]
