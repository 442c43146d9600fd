"""Puzzle data: generators, official file formats, augmentations, accuracy."""
from .puzzles import DatasetMeta, PuzzleSet
from .tasks import DataSpec, load_split, load_splits, augment, exact_accuracy

__all__ = ["DatasetMeta", "PuzzleSet", "DataSpec", "load_split", "load_splits", "augment", "exact_accuracy"]
