"""Benchmarks: measured runtime rows, derived efficiency, labelled phone estimates."""
from .harness import run_bench
from .report import write_outputs

__all__ = ["run_bench", "write_outputs"]
