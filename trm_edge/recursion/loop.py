"""`loop`: the recursion inside an ONNX Loop that exits once q_halt > 0 (ACT in the graph), one puzzle a call."""
from __future__ import annotations

from .unrolled import UnrolledMode


class LoopMode(UnrolledMode):
    name = "loop"
    help = "the recursion in a graph loop that stops once q_halt > 0 (ACT inside the graph), batch 1"
    graph_halts = True
    batch_one = True


MODE = LoopMode()
