"""`net`: the shared network alone (plus embed and heads); the host runs the T x n schedule between calls."""
from __future__ import annotations

import numpy as np

from ..schedule import host_step
from .step import StepMode


class NetMode(StepMode):
    name = "net"
    net_methods = True
    help = "the shared net, embedding and heads as separate methods; the host composes the recursion (smallest file)"

    def step(self, runner, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        x = runner.call([inputs.astype(np.int32), ids.astype(np.int32)], method="embed")[0]
        net = lambda hidden, injection: runner.call([hidden, injection], method="net")[0]   # noqa: E731
        y, z = host_step(net, y, z, x, runner.meta.H_cycles, runner.meta.L_cycles)
        logits, q = runner.call([y], method="heads")
        return y, z, logits, q


MODE = NetMode()
