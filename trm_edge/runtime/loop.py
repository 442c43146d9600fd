"""The host loop an app runs: call one supervision step at a time, keep (y, z), stop on the halting head.

Runtime-agnostic: a step is any callable on numpy arrays or torch tensors, so the same loop drives PyTorch
(tensors stay on the device between steps), ONNX Runtime, ExecuTorch and LiteRT artifacts, and it is the
logic `android_demo` ports to Java. torch is never imported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from ..limits import MAX_SUPERVISION_STEPS, check_count

HALTING_MODES = ("fixed", "act", "stable-K")


@dataclass(frozen=True)
class Halting:
    """When a row stops: 'fixed' runs every step (official eval), 'act' stops once q_halt > 0 (official ACT),
    'stable-K' stops once the answer's argmax has not changed for K consecutive steps (no halting head needed)."""

    rule: str
    patience: int = 0

    @classmethod
    def parse(cls, text: "str | Halting") -> "Halting":
        if isinstance(text, Halting):
            return text
        if text in ("fixed", "act"):
            return cls(text)
        if text.startswith("stable-") and text[7:].isdigit() and int(text[7:]) >= 1:
            return cls("stable", int(text[7:]))
        raise ValueError(f"halting must be fixed, act or stable-K with K >= 1 (got {text!r})")

    def __str__(self) -> str:
        return f"stable-{self.patience}" if self.rule == "stable" else self.rule


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
    q_trace: np.ndarray | None = None   # [steps, B] q_halt after every step, where a graph returns it (unrolled)

    @classmethod
    def concat(cls, parts: list["SolveResult"]) -> "SolveResult":
        """Join the results of consecutive batches."""
        traces = [p.q_trace for p in parts]
        trace = np.concatenate(traces, axis=1) if all(t is not None for t in traces) else None
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("predictions", "steps", "logits", "q_halt")), q_trace=trace)


def act_halt_steps(q_trace: np.ndarray, max_steps: int) -> np.ndarray:
    """The step at which the official rule (q_halt > 0) stops each puzzle, read off a run of every step
    ([steps, B] q_halt): a halted row only freezes its answer, so its steps up to the halt are that run's."""
    halted = q_trace > 0
    return np.where(halted.any(0), halted.argmax(0) + 1, max_steps)


def check_max_steps(max_steps: int) -> None:
    """Any number of supervision steps from 1 to the bound every file and option shares (limits.py): more than
    the model was trained with (N_sup) often helps, and halting makes them cost only where needed."""
    check_count("--max-steps", max_steps, 1, MAX_SUPERVISION_STEPS)


def pad_batch(rows: np.ndarray, batch: int) -> np.ndarray:
    """Repeat the last row until there are `batch` rows (graphs and compiled code take one fixed shape)."""
    missing = batch - len(rows)
    return rows if missing <= 0 else np.concatenate([rows, np.repeat(rows[-1:], missing, 0)])


def solve(step: StepFn, y0: np.ndarray, z0: np.ndarray, inputs: np.ndarray, puzzle_identifiers: np.ndarray,
          max_steps: int, halting: "str | Halting" = "fixed",
          on_step: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> SolveResult:
    """Run up to `max_steps` supervision steps. A row that halts (see `Halting`) keeps its outputs
    frozen, and the loop ends when every row has stopped; 'fixed' runs all steps, as the official
    evaluation does. `on_step(k, predictions, q_halt)` sees each step's answer."""
    rule = Halting.parse(halting)
    check_max_steps(max_steps)
    b = inputs.shape[0]
    y, z = y0, z0
    final_logits = final_q = previous = done = steps = unchanged = None
    for k in range(1, max_steps + 1):
        y, z, logits, q_halt = step(inputs, puzzle_identifiers, y, z)
        if not _is_torch(logits):
            logits, q_halt = np.asarray(logits), np.asarray(q_halt)
        q_halt = q_halt.reshape(b)
        if final_logits is None:   # state arrays of the step's own kind (numpy, or torch on its device)
            final_logits, final_q = _copy(logits), _copy(q_halt)
            done = q_halt > float("inf")
            steps, unchanged = done * 0, done * 0
        live = ~done
        final_logits[live], final_q[live] = logits[live], q_halt[live]
        steps[live] = k
        answer = final_logits.argmax(-1)
        if on_step is not None:
            on_step(k, answer, final_q)
        if rule.rule == "act":
            done |= q_halt > 0
        elif rule.rule == "stable":
            if previous is not None:
                unchanged = (unchanged + 1) * (answer == previous).all(-1)
            done |= unchanged >= rule.patience
        previous = answer
        if rule.rule != "fixed" and bool(done.all()):
            break
    return SolveResult(to_host(answer), to_host(steps), to_host(final_logits), to_host(final_q))


def _is_torch(a) -> bool:
    return type(a).__module__.split(".")[0] == "torch"


def _copy(a):
    return a.clone() if _is_torch(a) else np.array(a, copy=True)


def to_host(a) -> np.ndarray:
    """A numpy array from a numpy array or a torch tensor on any device."""
    return a.detach().cpu().numpy() if _is_torch(a) else np.asarray(a)
