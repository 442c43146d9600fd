"""The graphs that get exported: one supervision step, or all steps unrolled.

Token and identifier inputs are int32 (what phone runtimes take); everything else is float32.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..model.trm import TRM, Carry
from ..recursion import GraphKind

STEP_INPUTS = ("inputs", "puzzle_identifiers", "y", "z")
STEP_OUTPUTS = ("y_out", "z_out", "logits", "q_halt")
UNROLLED_INPUTS = ("inputs", "puzzle_identifiers")
UNROLLED_OUTPUTS = ("logits", "q_halt")
STATEFUL_INPUTS = ("inputs", "puzzle_identifiers", "reset")
STATEFUL_OUTPUTS = ("logits", "q_halt")
STATEFUL_STATES = ("y_state", "z_state")
NET_METHODS = {   # --recursion net: method -> (inputs, outputs); the host runs schedule.host_step between them
    "embed": (("inputs", "puzzle_identifiers"), ("x",)),
    "net": (("hidden", "injection"), ("hidden_out",)),
    "heads": (("y",), ("logits", "q_halt")),
}


class StepGraph(nn.Module):
    """(inputs, puzzle_identifiers, y, z) -> (y, z, logits, q_halt): one deep-supervision step."""

    def __init__(self, model: TRM) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor, y: torch.Tensor, z: torch.Tensor):
        return self.model.infer_step(inputs, puzzle_identifiers, y, z)


class UnrolledGraph(nn.Module):
    """(inputs, puzzle_identifiers) -> (final logits, q_halt of every step [B, steps]): the whole recursion baked in."""

    def __init__(self, model: TRM, steps: int) -> None:
        super().__init__()
        self.model = model
        self.steps = steps

    def forward(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor):
        m = self.model
        b = inputs.shape[0]
        shape = (b, m.config.total_len, m.config.hidden_size)
        y = m.H_init.expand(shape)
        z = m.L_init.expand(shape)
        x = m.input_embeddings(inputs, puzzle_identifiers)
        halts = []
        logits = None
        for _ in range(self.steps):
            y, z = m.step(y, z, x)
            logits, q_halt, _ = m.heads(y)
            halts.append(q_halt)
        return logits, torch.stack(halts, dim=-1)


class StatefulStepGraph(nn.Module):
    """(inputs, puzzle_identifiers, reset [B]) -> (logits, q_halt), with y and z kept in the model as state.

    A row whose `reset` is 1 starts from H_init / L_init (its first step), a row with 0 continues from the
    stored state. The state buffers are written at the end of every call (Core ML states, iOS 18+)."""

    def __init__(self, model: TRM, batch: int) -> None:
        super().__init__()
        self.model = model
        shape = (batch, model.config.total_len, model.config.hidden_size)
        self.register_buffer("y_state", torch.zeros(shape))
        self.register_buffer("z_state", torch.zeros(shape))

    def forward(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor, reset: torch.Tensor):
        m = self.model
        first = reset.reshape(-1, 1, 1) > 0.5   # a select, not a blend: whatever a new state holds is ignored
        y = torch.where(first, m.H_init.to(self.y_state.dtype), self.y_state)
        z = torch.where(first, m.L_init.to(self.z_state.dtype), self.z_state)
        y, z, logits, q_halt = m.infer_step(inputs, puzzle_identifiers, y, z)
        self.y_state.copy_(y)
        self.z_state.copy_(z)
        return logits, q_halt


class EmbedGraph(nn.Module):
    """(inputs, puzzle_identifiers) -> x: the input embedding, computed once per step by the host."""

    def __init__(self, model: TRM) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor):
        return (self.model.input_embeddings(inputs, puzzle_identifiers),)


class NetGraph(nn.Module):
    """(hidden, injection) -> net(hidden + injection): one call of the shared 2-layer net. A step makes
    T x (n + 1) of them; exported once, its weights exist once in the runtime instead of once per call."""

    def __init__(self, model: TRM) -> None:
        super().__init__()
        self.model = model

    def forward(self, hidden: torch.Tensor, injection: torch.Tensor):
        cos, sin = self.model.rope()
        return (self.model.L_level(hidden, injection, cos, sin),)


class HeadsGraph(nn.Module):
    """y -> (logits, q_halt): the answer and halting heads after a step."""

    def __init__(self, model: TRM) -> None:
        super().__init__()
        self.model = model

    def forward(self, y: torch.Tensor):
        logits, q_halt, _ = self.model.heads(y)
        return logits, q_halt


def net_calls(graph: nn.Module) -> int:
    """Calls of the shared net inside one exported graph: T x (n + 1) per step, times the steps unrolled.
    XNNPACK (ExecuTorch, and LiteRT's default delegate) packs the weights once per call at load time."""
    config = graph.model.config
    return config.H_cycles * (config.L_cycles + 1) * getattr(graph, "steps", 1)


def packed_copies_note(graph: nn.Module) -> str | None:
    """The note both XNNPACK-backed exporters add to a graph that holds more than one net call."""
    copies = net_calls(graph)
    if copies <= 1:
        return None
    return (f"the graph calls the net {copies} times and XNNPACK packs the weights of each call separately: "
            f"expect about {copies}x the file in memory at run time (--recursion net packs them once)")


def net_call_graphs(model: TRM, batch: int = 1) -> dict[str, tuple[nn.Module, tuple[torch.Tensor, ...]]]:
    """The methods of a `--recursion net` program, each with its example inputs (see NET_METHODS)."""
    inputs, ids, y, z = example_step_inputs(model, batch)
    return {"embed": (EmbedGraph(model).eval(), (inputs, ids)),
            "net": (NetGraph(model).eval(), (z, y)),
            "heads": (HeadsGraph(model).eval(), (y,))}


def example_stateful_inputs(model: TRM, batch: int = 1) -> tuple[torch.Tensor, ...]:
    return (*example_step_inputs(model, batch)[:2], torch.ones(batch))


def example_step_inputs(model: TRM, batch: int = 1) -> tuple[torch.Tensor, ...]:
    cfg = model.config
    carry: Carry = model.initial_carry(batch)
    inputs = torch.ones(batch, cfg.seq_len, dtype=torch.int32)
    ids = torch.zeros(batch, dtype=torch.int32)
    return inputs, ids, carry.y.contiguous(), carry.z.contiguous()


def example_unrolled_inputs(model: TRM, batch: int = 1) -> tuple[torch.Tensor, ...]:
    return example_step_inputs(model, batch)[:2]


@dataclass(frozen=True)
class BuiltGraph:
    """The graph built for one GraphKind: the module, an example call, and its tensor names."""

    module: nn.Module
    example: tuple[torch.Tensor, ...]
    in_names: tuple[str, ...]
    out_names: tuple[str, ...]


_BUILDERS: dict[GraphKind, Callable[[TRM, int], BuiltGraph]] = {
    GraphKind.STEP: lambda model, batch: BuiltGraph(StepGraph(model).eval(), example_step_inputs(model, batch),
                                                    STEP_INPUTS, STEP_OUTPUTS),
    GraphKind.STATEFUL_STEP: lambda model, batch: BuiltGraph(StatefulStepGraph(model, batch).eval(),
                                                             example_stateful_inputs(model, batch),
                                                             STATEFUL_INPUTS, STATEFUL_OUTPUTS),
    GraphKind.UNROLLED: lambda model, batch: BuiltGraph(UnrolledGraph(model, model.config.halt_max_steps).eval(),
                                                        example_unrolled_inputs(model, batch),
                                                        UNROLLED_INPUTS, UNROLLED_OUTPUTS),
}


def build_graph(kind: GraphKind, model: TRM, batch: int) -> BuiltGraph:
    """The graph a recursion mode exports (its `graph` kind), at this batch."""
    return _BUILDERS[kind](model, batch)
