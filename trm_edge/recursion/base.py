"""What a recursion mode is: how an exported artifact holds the TRM recursion, and how the host runs it.

A mode answers the questions the runtime, parity, the bench and the exporter used to ask by comparing the
artifact's `recursion` string: does the host call one supervision step at a time, does the graph halt by
itself, can the host change the number of steps, and how is one batch of puzzles driven to its answers."""
from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, Callable, Protocol

import numpy as np

from ..host_loop import Halting, HaltRule, SolveResult

OnStep = Callable[[int, np.ndarray, np.ndarray], None]


class Runner(Protocol):
    """What a mode asks of the runner it is handed (the runtime's artifact runner, a floor up, fits it)."""

    meta: Any    # the artifact's metadata: the net mode reads its depth (H_cycles, L_cycles)
    batch: int

    def call(self, inputs: list[np.ndarray], method: str | None = None, state: Any = None) -> list[np.ndarray]:
        """Run the artifact (or one of its methods) once."""

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        """y0, z0 for the runner's batch."""

    def step(self, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple:
        """One supervision step through the runner's mode."""

    def new_state(self) -> Any:
        """Fresh model states (stateful artifacts)."""


class GraphKind(Enum):
    """The graph an exporter builds for a mode (the graphs themselves are torch modules, in export/graphs.py)."""

    STEP = "step"                    # one supervision step: tokens, ids, y, z in; y, z, logits, q_halt out
    STATEFUL_STEP = "stateful step"  # the step with y and z kept inside the model as states
    UNROLLED = "unrolled"            # every supervision step in one graph


class Recursion(ABC):
    """One recursion mode of an exported artifact."""

    name: str
    help: str
    graph = GraphKind.STEP  # what the exporter builds
    net_methods = False     # also exports embed / net / heads, and the host composes a step from their calls
    state_in_graph = False  # y and z live in the model (fp16 states): the host never sees them
    host_stepped = False   # the host calls one supervision step at a time with (y, z) in and out
    graph_halts = False    # the graph stops by itself (q_halt > 0): only ACT halting applies
    fixed_depth = False    # the graph runs the steps baked into it: the host cannot ask for more or fewer
    batch_one = False      # the graph only takes one puzzle at a time

    def check(self, halting: Halting, max_steps: int, baked_steps: int) -> None:
        """Refuse, in one line, a request this mode's graph cannot serve."""
        if self.fixed_depth and max_steps != baked_steps:
            raise ValueError(f"this {self.name} artifact runs the {baked_steps} steps baked into its graph; other "
                             "step counts need a step artifact (export --recursion step)")
        if self.graph_halts and halting.rule is not HaltRule.ACT:
            raise ValueError("this artifact halts inside its graph (q_halt > 0): run it with halting='act'")

    @property
    def reference_halting(self) -> str:
        """The halting rule that reproduces a reference run: all steps, unless the graph halts by itself."""
        return "act" if self.graph_halts else "fixed"

    def step(self, runner: Runner, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        """One supervision step: (y, z, logits, q_halt). Only host-stepped modes have one."""
        raise ValueError(f"a {self.name} artifact has no single step to call: export --recursion step")

    @abstractmethod
    def solve_batch(self, runner: Runner, x: np.ndarray, ids: np.ndarray, max_steps: int,
                    halting: Halting, on_step: OnStep | None) -> SolveResult:
        """Answers for one full batch of the runner's size."""


_MODES: dict[str, Recursion] = {}


def register_mode(mode: Recursion) -> Recursion:
    _MODES[mode.name] = mode
    return mode
