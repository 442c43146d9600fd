"""`stateful`: y and z live inside the model as states (Core ML iOS 18); the host sends reset=1, then 0."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..artifact import TensorSpec
from ..host_loop import Halting, SolveResult, solve
from .base import GraphKind, OnStep, Recursion

STATEFUL_USE = ("make one state per puzzle batch; call with reset=1 on the first step and 0 after; "
                "stop a row once q_halt > 0")


@dataclass
class ModelStates:
    """What a `stateful` artifact's metadata tells an app: the states y and z live in and how to drive them
    (stored under `extra` as `states` and `stateful_use`)."""

    states: list[TensorSpec]
    use: str = field(default=STATEFUL_USE)

    def to_extra(self) -> dict[str, Any]:
        return {"states": [asdict(s) for s in self.states], "stateful_use": self.use}

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> "ModelStates":
        return cls([TensorSpec(**s) for s in extra.get("states", [])], extra.get("stateful_use", STATEFUL_USE))


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
