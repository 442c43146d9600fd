"""`loop`: the recursion inside an ONNX Loop that exits once q_halt > 0 (ACT in the graph), one puzzle a call."""
from __future__ import annotations

from .base import GraphKind
from .unrolled import UnrolledMode


class LoopMode(UnrolledMode):
    name = "loop"
    graph = GraphKind.STEP   # the step, inside a graph loop the exporter wraps round it
    help = "the recursion in a graph loop that stops once q_halt > 0 (ACT inside the graph), batch 1"
    graph_halts = True
    batch_one = True


MODE = LoopMode()
