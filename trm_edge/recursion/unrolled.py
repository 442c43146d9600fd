"""`unrolled`: every supervision step inside one graph; it returns the last answer and each step's q_halt."""
from __future__ import annotations

import numpy as np

from ..host_loop import Halting, HaltRule, SolveResult
from .base import GraphKind, OnStep, Recursion


class UnrolledMode(Recursion):
    name = "unrolled"
    graph = GraphKind.UNROLLED
    help = "all N_sup steps in one call (no host loop); returns the final answer and every step's q_halt"
    fixed_depth = True

    def check(self, halting: Halting, max_steps: int, baked_steps: int) -> None:
        super().check(halting, max_steps, baked_steps)
        if halting.patience or halting.rule is HaltRule.VALID:
            raise ValueError(f"an unrolled artifact returns only the final answer, so {halting} halting cannot be "
                             "applied to it: export --recursion step")

    def solve_batch(self, runner, x: np.ndarray, ids: np.ndarray, max_steps: int, halting: Halting,
                    on_step: OnStep | None) -> SolveResult:
        logits, q_all = runner.call([x.astype(np.int32), ids.astype(np.int32)])
        # The graph runs every step whatever the rule, and returns the last step's answer: that is what was used.
        # Where ACT would have stopped is read off q_trace (loop.act_halt_steps), not reported as steps run.
        steps = np.full(len(x), q_all.shape[-1])
        return SolveResult(logits.argmax(-1), steps, logits, q_all[:, -1], q_trace=q_all.T)


MODE = UnrolledMode()
