"""Inference: the host loop with ACT halting, and runners for the PyTorch model and exported artifacts."""
from .loop import SolveResult, solve, HALTING_MODES

__all__ = ["SolveResult", "solve", "HALTING_MODES"]
