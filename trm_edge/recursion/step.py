"""`step`: one graph per supervision step, (y, z) in and out; the host runs the loop and the halting rule."""
from __future__ import annotations

import numpy as np

from ..host_loop import Halting, SolveResult, solve
from .base import OnStep, Recursion


class StepMode(Recursion):
    name = "step"
    help = "one supervision step per call, (y, z) in and out; the host loops and halts (any rule, any step count)"
    host_stepped = True

    def step(self, runner, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        y, z, logits, q = runner.call([inputs.astype(np.int32), ids.astype(np.int32), y, z])
        return y, z, logits, q

    def solve_batch(self, runner, x: np.ndarray, ids: np.ndarray, max_steps: int, halting: Halting,
                    on_step: OnStep | None) -> SolveResult:
        y0, z0 = runner.initial_state()
        return solve(runner.step, y0, z0, x, ids, max_steps, halting, on_step)


MODE = StepMode()
