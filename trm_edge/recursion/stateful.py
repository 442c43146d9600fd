"""`stateful`: y and z live inside the model as states (Core ML iOS 18); the host sends reset=1, then 0."""
from __future__ import annotations

import numpy as np

from ..runtime.loop import Halting, SolveResult, solve
from .base import GraphKind, OnStep, Recursion


class StatefulMode(Recursion):
    name = "stateful"
    graph = GraphKind.STATEFUL_STEP
    state_in_graph = True
    help = "one step per call with y/z kept as model states (Core ML, iOS 18): the host loops and halts"

    def solve_batch(self, runner, x: np.ndarray, ids: np.ndarray, max_steps: int, halting: Halting,
                    on_step: OnStep | None) -> SolveResult:
        return solve(self._fresh_step(runner), None, None, x, ids, max_steps, halting, on_step)

    @staticmethod
    def _fresh_step(runner):
        """A step function over a fresh model state: reset=1 on the first call, 0 after (y/z stay inside)."""
        state = runner.new_state()
        calls = [0]

        def step(inputs, ids, y, z):
            reset = np.full(runner.batch, 1.0 if calls[0] == 0 else 0.0, np.float32)
            calls[0] += 1
            logits, q = runner.call([inputs.astype(np.int32), ids.astype(np.int32), reset], state=state)
            return y, z, logits, q

        return step


MODE = StatefulMode()
