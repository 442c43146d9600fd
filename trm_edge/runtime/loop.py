"""The host loop an app runs: call one supervision step at a time, keep (y, z), stop on the halting head.

Runtime-agnostic: a step is any callable on numpy arrays, so the same loop drives PyTorch, ONNX Runtime,
ExecuTorch and LiteRT artifacts (and is the logic `android_demo` ports to Kotlin).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

HALTING_MODES = ("fixed", "act")


class StepFn(Protocol):
    def __call__(self, inputs: np.ndarray, puzzle_identifiers: np.ndarray, y: np.ndarray,
                 z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(y, z, logits [B, L, V], q_halt [B]) after one supervision step."""


@dataclass
class SolveResult:
    predictions: np.ndarray   # [B, L] token ids at each row's final step
    steps: np.ndarray         # [B] supervision steps used
    logits: np.ndarray        # [B, L, V] logits at each row's final step
    q_halt: np.ndarray        # [B] halting logit at each row's final step

    @classmethod
    def concat(cls, parts: list["SolveResult"]) -> "SolveResult":
        """Join the results of consecutive batches."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("predictions", "steps", "logits", "q_halt")))


def pad_batch(rows: np.ndarray, batch: int) -> np.ndarray:
    """Repeat the last row until there are `batch` rows (graphs and compiled code take one fixed shape)."""
    missing = batch - len(rows)
    return rows if missing <= 0 else np.concatenate([rows, np.repeat(rows[-1:], missing, 0)])


def solve(step: StepFn, y0: np.ndarray, z0: np.ndarray, inputs: np.ndarray, puzzle_identifiers: np.ndarray,
          max_steps: int, halting: str = "fixed",
          on_step: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> SolveResult:
    """Run up to `max_steps` supervision steps. With halting='act' a row stops once q_halt > 0
    (its outputs freeze, and the loop ends when every row has stopped); 'fixed' runs all steps,
    as the official evaluation does. `on_step(k, predictions, q_halt)` sees each step's answer."""
    if halting not in HALTING_MODES:
        raise ValueError(f"halting must be one of {HALTING_MODES} (got {halting!r})")
    if max_steps < 1:
        raise ValueError("max_steps must be >= 1")
    b = inputs.shape[0]
    y, z = y0, z0
    done = np.zeros(b, dtype=bool)
    steps = np.zeros(b, dtype=np.int64)
    final_logits = final_q = None
    for k in range(1, max_steps + 1):
        y, z, logits, q_halt = step(inputs, puzzle_identifiers, y, z)
        logits, q_halt = np.asarray(logits), np.asarray(q_halt).reshape(b)
        if final_logits is None:
            final_logits, final_q = logits.copy(), q_halt.copy()
        live = ~done
        final_logits[live], final_q[live] = logits[live], q_halt[live]
        steps[live] = k
        if on_step is not None:
            on_step(k, final_logits.argmax(-1), final_q)
        if halting == "act":
            done |= q_halt > 0
            if done.all():
                break
    return SolveResult(final_logits.argmax(-1), steps, final_logits, final_q)
