"""Task-aware datasets: splits, held-out bands and file formats, read through each task's codec."""
from ..data.spec import DataSpec
from .splits import augment, held_out, load_split, load_splits, task_of

__all__ = ["DataSpec", "augment", "held_out", "load_split", "load_splits", "task_of"]
