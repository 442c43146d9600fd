"""Inference: the host loop with ACT halting, and runners for the PyTorch model and exported artifacts."""
from ..host_loop import Halting, SolveResult, solve, HALTING_MODES

__all__ = ["Halting", "SolveResult", "solve", "HALTING_MODES"]
