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
from ..schedule import host_step
from ..targets import HOST_STEPPED
from .loop import Halting, SolveResult, pad_batch, solve, solve_stream


__all__ = ["ArtifactRunner", "UnsupportedOnHost", "load_runner"]   # UnsupportedOnHost: callers catch it here


class ArtifactRunner:
    """Runs one artifact's graph through its own runtime, batch as exported."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        self.folder = Path(folder)
        self.meta: ArtifactMeta = verify(self.folder)   # files and metadata as exported, paths inside the folder
        self.threads = threads
        raw = np.fromfile(inside(self.folder, self.meta.init_state["file"]), dtype="<f4")
        d = self.meta.hidden_size
        if raw.size != 2 * d:
            raise ValueError(f"{self.folder}: init_state has {raw.size} floats, expected {2 * d}")
        self.H_init, self.L_init = raw[:d], raw[d:]
        self._new_state: Callable[[], object] | None = None   # set by backends that run stateful models
        self._call: Callable[..., list[np.ndarray]] = targets.get(self.meta.target).open_runtime(self)

    @property
    def batch(self) -> int:
        return self.meta.batch

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        shape = tuple(self.meta.state_shape)
        return (np.ascontiguousarray(np.broadcast_to(self.H_init, shape)),
                np.ascontiguousarray(np.broadcast_to(self.L_init, shape)))

    def step(self, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        if self.meta.recursion == "net":
            return self._net_step(inputs.astype(np.int32), ids.astype(np.int32), y, z)
        y, z, logits, q = self._call([inputs.astype(np.int32), ids.astype(np.int32), y, z])
        return y, z, logits, q

    def _net_step(self, inputs: np.ndarray, ids: np.ndarray, y: np.ndarray, z: np.ndarray):
        """One supervision step of a `--recursion net` program: the host runs the schedule between net calls."""
        x = self._call([inputs, ids], method="embed")[0]
        net = lambda hidden, injection: self._call([hidden, injection], method="net")[0]   # noqa: E731
        y, z = host_step(net, y, z, x, self.meta.H_cycles, self.meta.L_cycles)
        logits, q = self._call([y], method="heads")
        return y, z, logits, q

    def run_unrolled(self, inputs: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, q_all = self._call([inputs.astype(np.int32), ids.astype(np.int32)])
        return logits, q_all

    def solve(self, inputs: np.ndarray, puzzle_identifiers: np.ndarray, halting: "str | Halting" = "fixed",
              max_steps: int | None = None, on_step=None) -> SolveResult:
        """Solve any number of puzzles, `batch` at a time (a short last batch is padded and trimmed).
        `on_step` (see loop.solve) sees each step of step-wise artifacts; unrolled graphs have no steps to show."""
        max_steps = max_steps or self.meta.halt_max_steps
        halting = Halting.parse(halting)
        if self.meta.recursion not in HOST_STEPPED and self.meta.recursion != "stateful" and \
                max_steps != self.meta.halt_max_steps:
            raise ValueError(f"this {self.meta.recursion} artifact runs the {self.meta.halt_max_steps} steps baked into "
                             "its graph; other step counts need a step artifact (export --recursion step)")
        if self.meta.recursion == "loop" and halting.rule != "act":
            raise ValueError("this artifact halts inside its ONNX Loop (q_halt > 0): run it with halting='act'")
        b = self.batch
        if self.meta.recursion in HOST_STEPPED and on_step is None and halting.rule != "fixed" and len(inputs) > b:
            # rows stop at different steps: keep the batch full instead of waiting for each batch's slowest row
            return solve_stream(self.step, self.initial_state, inputs, puzzle_identifiers, max_steps, halting)
        parts: list[SolveResult] = []
        for start in range(0, len(inputs), b):
            x = inputs[start:start + b]
            ids = puzzle_identifiers[start:start + b]
            n = len(x)
            x, ids = pad_batch(x, b), pad_batch(ids, b)
            if self.meta.recursion in HOST_STEPPED:
                y0, z0 = self.initial_state()
                res = solve(self.step, y0, z0, x, ids, max_steps, halting, _trim(on_step, n))
            elif self.meta.recursion == "stateful":
                res = solve(self._stateful_step(), None, None, x, ids, max_steps, halting, _trim(on_step, n))
            else:
                res = self._solve_unrolled(x, ids, halting)
            parts.append(SolveResult(res.predictions[:n], res.steps[:n], res.logits[:n], res.q_halt[:n],
                                     None if res.q_trace is None else res.q_trace[:, :n]))
        return SolveResult.concat(parts)

    def _stateful_step(self):
        """A step function over a fresh model state: reset=1 on the first call, 0 after (y/z stay inside)."""
        state = self._new_state()
        calls = [0]

        def step(inputs, ids, y, z):
            reset = np.full(self.batch, 1.0 if calls[0] == 0 else 0.0, np.float32)
            calls[0] += 1
            logits, q = self._call([inputs.astype(np.int32), ids.astype(np.int32), reset], state)
            return y, z, logits, q

        return step

    def _solve_unrolled(self, x: np.ndarray, ids: np.ndarray, halting: Halting) -> SolveResult:
        if halting.rule == "stable":
            raise ValueError("an unrolled artifact returns only the final answer, so stable-K halting cannot be "
                             "applied to it: export --recursion step")
        logits, q_all = self.run_unrolled(x, ids)
        # The graph runs every step whatever the rule, and returns the last step's answer: that is what was used.
        # Where ACT would have stopped is read off q_trace (loop.act_halt_steps), not reported as steps run.
        steps = np.full(len(x), q_all.shape[-1])
        return SolveResult(logits.argmax(-1), steps, logits, q_all[:, -1], q_trace=q_all.T)


def _trim(on_step, n: int):
    """Hide the padding rows of a short last batch from an `on_step` callback."""
    if on_step is None:
        return None
    return lambda k, predictions, q_halt: on_step(k, predictions[:n], q_halt[:n])


def load_runner(folder: str | Path, threads: int | None = None) -> ArtifactRunner:
    return ArtifactRunner(folder, threads)
