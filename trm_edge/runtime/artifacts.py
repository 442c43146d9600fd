"""Load any exported artifact folder and run it: the host-side reference for apps.

    runner = load_runner("artifacts/sudoku4-onnx-int8")
    result = runner.solve(inputs, puzzle_identifiers, halting="act")
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .. import targets
from ..artifact import ArtifactMeta, inside, verify
from ..errors import UnsupportedOnHost
from .. import recursion
from ..recursion import Recursion
from .loop import Halting, SolveResult, pad_batch, solve_stream


__all__ = ["ArtifactRunner", "UnsupportedOnHost", "load_runner"]   # UnsupportedOnHost: callers catch it here


class ArtifactRunner:
    """Runs one artifact's graph through its own runtime, batch as exported; its recursion mode
    (`trm_edge.recursion`) says how the host drives it."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        self.folder = Path(folder)
        self.meta: ArtifactMeta = verify(self.folder)   # files and metadata as exported, paths inside the folder
        self.mode: Recursion = recursion.mode(self.meta.recursion)
        self.threads = threads
        raw = np.fromfile(inside(self.folder, self.meta.init_state["file"]), dtype="<f4")
        d = self.meta.hidden_size
        if raw.size != 2 * d:
            raise ValueError(f"{self.folder}: init_state has {raw.size} floats, expected {2 * d}")
        self.H_init, self.L_init = raw[:d], raw[d:]
        # set by backends that run stateful models: a fresh state object for one solve
        self.new_state: Callable[[], object] | None = None
        self.call: Callable[..., list[np.ndarray]] = targets.get(self.meta.target).open_runtime(self)

    @property
    def batch(self) -> int:
        return self.meta.batch

    @property
    def halt_max_steps(self) -> int:
        return self.meta.halt_max_steps

    def synchronize(self) -> None:
        """Every runtime here returns finished host arrays: nothing is left in flight."""

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        shape = tuple(self.meta.state_shape)
        return (np.ascontiguousarray(np.broadcast_to(self.H_init, shape)),
                np.ascontiguousarray(np.broadcast_to(self.L_init, shape)))

    def step(self, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        """One supervision step (host-stepped modes): (y, z, logits, q_halt)."""
        return self.mode.step(self, inputs, ids, y, z)

    def solve(self, inputs: np.ndarray, puzzle_identifiers: np.ndarray, halting: "str | Halting" = "fixed",
              max_steps: int | None = None, on_step=None) -> SolveResult:
        """Solve any number of puzzles, `batch` at a time (a short last batch is padded and trimmed).
        `on_step` (see loop.solve) sees each step of step-wise artifacts; unrolled graphs have no steps to show."""
        max_steps = max_steps or self.meta.halt_max_steps
        halting = Halting.parse(halting)
        self.mode.check(halting, max_steps, self.meta.halt_max_steps)
        b = self.batch
        if self.mode.host_stepped and on_step is None and halting.rule != "fixed" and len(inputs) > b:
            # rows stop at different steps: keep the batch full instead of waiting for each batch's slowest row
            return solve_stream(self.step, self.initial_state, inputs, puzzle_identifiers, max_steps, halting)
        parts: list[SolveResult] = []
        for start in range(0, len(inputs), b):
            x = inputs[start:start + b]
            ids = puzzle_identifiers[start:start + b]
            n = len(x)
            res = self.mode.solve_batch(self, pad_batch(x, b), pad_batch(ids, b), max_steps, halting,
                                        _trim(on_step, n))
            parts.append(SolveResult(res.predictions[:n], res.steps[:n], res.logits[:n], res.q_halt[:n],
                                     None if res.q_trace is None else res.q_trace[:, :n]))
        return SolveResult.concat(parts)


def _trim(on_step, n: int):
    """Hide the padding rows of a short last batch from an `on_step` callback."""
    if on_step is None:
        return None
    return lambda k, predictions, q_halt: on_step(k, predictions[:n], q_halt[:n])


def load_runner(folder: str | Path, threads: int | None = None) -> ArtifactRunner:
    return ArtifactRunner(folder, threads)
