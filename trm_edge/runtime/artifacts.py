"""Load any exported artifact folder and run it: the host-side reference for apps.

    runner = load_runner("artifacts/sudoku4-onnx-int8")
    result = runner.solve(inputs, puzzle_identifiers, halting="act")
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .. import targets
from ..artifact import ArtifactIntegrityError, ArtifactMeta, inside, verify
from ..errors import UnsupportedOnHost
from .. import recursion
from ..recursion import Recursion
from ..host_loop import Halting, ManyPuzzles, SolveResult


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
        target = targets.get(self.meta.target)   # a built-in mode its target never exports: crafted metadata
        if self.meta.recursion in targets.RECURSION_MODES and self.meta.recursion not in target.modes:
            raise ArtifactIntegrityError(f"{self.folder}: metadata says --recursion {self.meta.recursion}, which "
                                         f"{target.name} artifacts never have ({'/'.join(target.modes)})")
        try:
            self.call: Callable[..., list[np.ndarray]] = target.open_runtime(self)
        except (ValueError, OSError, ImportError, UnsupportedOnHost):
            raise
        except Exception as exc:   # noqa: BLE001 - each runtime raises its own types for a file it cannot parse
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise ArtifactIntegrityError(f"{self.folder}: {self.meta.model_file} cannot be loaded by {target.name}'s "
                                         f"runtime ({type(exc).__name__}: {first}); export it again") from None

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
        """Solve any number of puzzles, `batch` at a time (a short last batch is padded and trimmed; rows that stop
        early hand their slot to the next puzzle). `on_step` (see loop.solve) sees each step of step-wise
        artifacts; unrolled graphs have no steps to show."""
        max_steps = max_steps or self.meta.halt_max_steps
        halting = Halting.parse(halting)
        self.mode.check(halting, max_steps, self.meta.halt_max_steps)
        many = ManyPuzzles(self.batch, self.step if self.mode.host_stepped else None, self.initial_state,
                           lambda x, ids, seen: self.mode.solve_batch(self, x, ids, max_steps, halting, seen))
        res = many.solve(inputs, puzzle_identifiers, max_steps, halting, on_step)
        if not (np.isfinite(res.logits).all() and np.isfinite(res.q_halt).all()):
            raise RuntimeError(f"{self.folder}: the model's outputs hold NaN or infinity (its model file is damaged or "
                               "was exported wrong): export it again")
        return res


def load_runner(folder: str | Path, threads: int | None = None) -> ArtifactRunner:
    return ArtifactRunner(folder, threads)
