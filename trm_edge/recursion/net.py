"""`net`: the shared network alone (plus embed and heads); the host runs the T x n schedule between calls."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..artifact import TensorSpec
from ..schedule import host_step
from .step import StepMode

NET_USE = ("each step: x = embed(inputs, puzzle_identifiers); H_cycles times: L_cycles times "
           "z = net(z, y + x), then y = net(y, z); logits, q_halt = heads(y)")


@dataclass
class NetProgram:
    """What a `net` artifact's metadata tells an app: each method's tensors and the schedule that composes a step
    from their calls (stored under `extra` as `methods` and `net_use`, the keys the Android and web readers parse)."""

    methods: dict[str, tuple[list[TensorSpec], list[TensorSpec]]]   # name -> (inputs, outputs)
    use: str = field(default=NET_USE)

    def to_extra(self) -> dict[str, Any]:
        return {"methods": {name: {"inputs": [asdict(t) for t in ins], "outputs": [asdict(t) for t in outs]}
                            for name, (ins, outs) in self.methods.items()},
                "net_use": self.use}

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> "NetProgram":
        if "methods" not in extra:
            raise ValueError("this net artifact's metadata names no methods (extra.methods)")
        methods = {name: ([TensorSpec(**t) for t in m["inputs"]], [TensorSpec(**t) for t in m["outputs"]])
                   for name, m in extra["methods"].items()}
        return cls(methods, extra.get("net_use", NET_USE))


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
