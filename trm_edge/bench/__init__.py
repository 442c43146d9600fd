"""Benchmarks: measured runtime rows, derived efficiency, labelled phone estimates."""
from .harness import BenchRequest, run_bench
from .report import write_outputs

__all__ = ["BenchRequest", "run_bench", "write_outputs"]
