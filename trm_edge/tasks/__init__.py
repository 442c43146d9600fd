"""Puzzle tasks: one module per task, each registering a `Task` the rest of trm-edge asks (never its name)."""
from .base import Task, get_task, register_task, task_names
from . import arc, maze, sudoku   # noqa: F401  (the built-in tasks register themselves)

__all__ = ["Task", "get_task", "register_task", "task_names"]
