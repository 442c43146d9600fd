"""The host loop an app runs: call one supervision step at a time, keep (y, z), stop on the halting head.

Runtime-agnostic: a step is any callable on numpy arrays or torch tensors, so the same loop drives PyTorch
(tensors stay on the device between steps), ONNX Runtime, ExecuTorch and LiteRT artifacts, and it is the
logic `android_demo` ports to Java. torch is never imported here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable, Protocol

import numpy as np

from .limits import MAX_SUPERVISION_STEPS, check_count

HALTING_MODES = ("fixed", "act", "stable-K", "valid", "valid-K")

# (inputs [B, L], answers [B, L]) tokens -> [B] bool: the task's rules accept the answer (bound by the solver)
Verifier = Callable[[np.ndarray, np.ndarray], np.ndarray]


class HaltRule(str, Enum):
    FIXED = "fixed"    # every step (the official evaluation)
    ACT = "act"        # q_halt > 0 (official ACT)
    STABLE = "stable"  # the answer unchanged for K steps (no halting head needed)
    VALID = "valid"    # the task's rules accept the answer (or, with K, it is unchanged for K steps)


@dataclass(frozen=True)
class Halting:
    """When a row stops: the one place every loop (batch, stream, PyTorch, artifacts; the web page's and the
    Android core's ports) asks. 'fixed' runs every step, 'act' stops once q_halt > 0, 'stable-K' once the
    answer's argmax has not changed for K consecutive steps, 'valid' at the first step whose answer the task's
    rules check accepts ('valid-K': or once it is unchanged for K steps, so a wrong fixed point gives up early)."""

    rule: HaltRule
    patience: int = 0
    verifier: Verifier | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: "str | Halting") -> "Halting":
        if isinstance(text, Halting):
            return text
        if text in ("fixed", "act", "valid"):
            return cls(HaltRule(text))
        for rule in (HaltRule.STABLE, HaltRule.VALID):
            prefix = f"{rule.value}-"
            if isinstance(text, str) and text.startswith(prefix) and text[len(prefix):].isdigit() \
                    and text[len(prefix):].isascii() and int(text[len(prefix):]) >= 1:
                return cls(rule, int(text[len(prefix):]))
        raise ValueError(f"halting must be fixed, act, stable-K, valid or valid-K with K >= 1 (got {text!r})")

    def __str__(self) -> str:
        return f"{self.rule.value}-{self.patience}" if self.patience else self.rule.value

    @property
    def stops_early(self) -> bool:
        return self.rule is not HaltRule.FIXED

    def with_verifier(self, verifier: Verifier | None) -> "Halting":
        """This rule with the task's rules check bound (what 'valid' stops on); refused where the task has none."""
        if self.rule is HaltRule.VALID and verifier is None:
            raise ValueError("halting 'valid' needs a task whose rules check can tell a right answer (this one "
                             "has none): use act or stable-K")
        return replace(self, verifier=verifier)

    def rows(self) -> "HaltRows":
        return HaltRows(self)

    def reason(self, steps: int, max_steps: int, q_halt: float, accepted: bool = False) -> str:
        """Why a row that ran `steps` stopped: "valid answer", "q_halt", "stable answer" or "step limit"."""
        if self.rule is HaltRule.VALID and accepted:
            return "valid answer"
        if self.rule is HaltRule.ACT and q_halt > 0:
            return "q_halt"
        if self.patience and steps < max_steps:
            return "stable answer"
        return "step limit"


class HaltRows:
    """The state a halting rule keeps per row between steps (the unchanged-answer count, the last answer), in
    the step's own kind of array (numpy, or torch on its device)."""

    def __init__(self, halting: Halting) -> None:
        if halting.rule is HaltRule.VALID and halting.verifier is None:
            raise ValueError("halting 'valid' was not given the task's rules check")
        self.halting = halting
        self.unchanged = None
        self.previous = None

    def stops(self, answer, q_halt, inputs, fresh=None, live=None):
        """The rows this rule stops after the step that gave `answer` and `q_halt` for `inputs`; `fresh` marks
        rows at their first step (a slot that just took a new puzzle has no previous answer); the rules check
        runs on the `live` rows only (a stopped or idle row needs none)."""
        h = self.halting
        stop = q_halt > float("inf")   # all False, of the step's own kind
        if self.unchanged is None:
            self.unchanged = stop * 0
        if h.rule is HaltRule.ACT:
            stop = q_halt > 0
        if h.rule is HaltRule.VALID:
            accepted = self._accepted(to_host(inputs), to_host(answer), live)
            stop = stop | (_like(stop, accepted) if _is_torch(stop) else accepted)
        if h.patience:
            same = (answer == self.previous).all(-1) if self.previous is not None else q_halt > float("inf")
            if fresh is not None:
                same = same & ~fresh
            self.unchanged = (self.unchanged + 1) * same
            stop = stop | (self.unchanged >= h.patience)
        self.previous = answer
        return stop

    def _accepted(self, inputs: np.ndarray, answer: np.ndarray, live) -> np.ndarray:
        rows = np.arange(len(answer)) if live is None else np.flatnonzero(to_host(live))
        accepted = np.zeros(len(answer), dtype=bool)
        if len(rows):
            accepted[rows] = np.asarray(self.halting.verifier(inputs[rows], answer[rows]), dtype=bool)
        return accepted

    def keep(self, rows) -> None:
        """Only these rows stay (a stream dropping its idle slots)."""
        self.unchanged = None if self.unchanged is None else self.unchanged[rows]
        self.previous = None if self.previous is None else self.previous[rows]


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
    halt = rule.rows()
    b = inputs.shape[0]
    y, z = y0, z0
    final_logits = final_q = done = steps = None
    for k in range(1, max_steps + 1):
        y, z, logits, q_halt = step(inputs, puzzle_identifiers, y, z)
        if not _is_torch(logits):
            logits, q_halt = np.asarray(logits), np.asarray(q_halt)
        q_halt = q_halt.reshape(b)
        if final_logits is None:   # state arrays of the step's own kind (numpy, or torch on its device)
            final_logits, final_q = _copy(logits), _copy(q_halt)
            done = q_halt > float("inf")
            steps = done * 0
        live = ~done
        final_logits[live], final_q[live] = logits[live], q_halt[live]
        steps[live] = k
        answer = final_logits.argmax(-1)
        if on_step is not None:
            on_step(k, answer, final_q)
        done |= halt.stops(answer, q_halt, inputs, live=~done)
        if rule.stops_early and bool(done.all()):
            break
    return SolveResult(to_host(answer), to_host(steps), to_host(final_logits), to_host(final_q))


def solve_stream(step: StepFn, initial_state: Callable[[], tuple], inputs: np.ndarray, puzzle_identifiers: np.ndarray,
                 max_steps: int, halting: "str | Halting" = "act", *, shrink: bool = False) -> SolveResult:
    """Continuous batching: the step's batch B of rows stays in flight, and a row that stops hands its slot to the
    next puzzle (its y, z reset to the initial state), so no batch waits for its slowest row. Rows do not
    interact, so every puzzle gets the answer it gets alone. `initial_state()` gives y0, z0 for B rows, of the
    step's own kind (numpy, or torch on its device). `shrink`: once no puzzle is left to load, run only the live
    rows (for steps that take any batch size, like PyTorch's; a graph with a fixed batch keeps its idle rows)."""
    rule = Halting.parse(halting)
    check_max_steps(max_steps)
    y0, z0 = initial_state()
    flight = _Flight(inputs, puzzle_identifiers, len(y0), rule)
    y, z = _copy(y0), _copy(z0)
    for slot in range(flight.batch):
        flight.load(slot, y, z, y0, z0)
    while flight.busy():
        y, z, logits, q_halt = step(flight.x, flight.ids, y, z)
        logits, q_halt = to_host(logits), to_host(q_halt).reshape(flight.batch)
        stopped = flight.advance(logits.argmax(-1), q_halt, max_steps)
        if len(stopped):
            y, z = _copy(y), _copy(z)   # runtimes may own their output buffers: reset rows in our own copy
        for slot in stopped:
            flight.finish(slot, logits[slot], q_halt[slot])
            flight.load(slot, y, z, y0, z0)
        if shrink and flight.next >= len(inputs) and len(stopped) and flight.busy():
            keep = flight.keep_live()
            y, z = y[keep], z[keep]
    return flight.result()


@dataclass
class ManyPuzzles:
    """How a runner solves any number of puzzles: streamed when rows may stop early (continuous batching), else
    batch by batch. `one_batch(x, ids, on_step)` solves up to `batch` rows; `pad`: a graph takes exactly `batch`
    rows, so a short last batch is padded and trimmed (PyTorch runs it at its own size)."""

    batch: int
    step: StepFn | None                   # None: the runner has no host step (the graph runs the recursion)
    initial_state: Callable[[], tuple]
    one_batch: Callable[[np.ndarray, np.ndarray, Callable | None], SolveResult]
    pad: bool = True
    shrink: bool = False                  # see solve_stream

    def solve(self, inputs: np.ndarray, ids: np.ndarray, max_steps: int, halting: "Halting",
              on_step=None) -> SolveResult:
        if self.step is not None and on_step is None and halting.stops_early and len(inputs) > self.batch:
            return solve_stream(self.step, self.initial_state, inputs, ids, max_steps, halting, shrink=self.shrink)
        parts = []
        for start in range(0, len(inputs), self.batch):
            x, i = inputs[start:start + self.batch], ids[start:start + self.batch]
            n = len(x)
            if not self.pad:
                parts.append(self.one_batch(x, i, on_step))
                continue
            res = self.one_batch(pad_batch(x, self.batch), pad_batch(i, self.batch), _trim(on_step, n))
            parts.append(SolveResult(res.predictions[:n], res.steps[:n], res.logits[:n], res.q_halt[:n],
                                     None if res.q_trace is None else res.q_trace[:, :n]))
        return SolveResult.concat(parts)


def _trim(on_step, n: int):
    """Hide the padding rows of a short last batch from an `on_step` callback."""
    if on_step is None:
        return None
    return lambda k, predictions, q_halt: on_step(k, predictions[:n], q_halt[:n])


class _Flight:
    """The rows in flight of `solve_stream`: which puzzle each slot holds, its step count and stable-K state."""

    def __init__(self, inputs: np.ndarray, ids: np.ndarray, batch: int, halting: Halting) -> None:
        self.inputs, self.all_ids, self.batch = inputs, ids, batch
        self.halt = halting.rows()
        self.x = np.repeat(inputs[:1], batch, 0)
        self.ids = np.repeat(ids[:1], batch, 0)
        self.puzzle = np.full(batch, -1)
        self.k = np.zeros(batch, dtype=np.int64)
        self.next = 0
        self.out: dict[str, list] = {"predictions": [None] * len(inputs), "steps": [0] * len(inputs),
                                     "logits": [None] * len(inputs), "q_halt": [0.0] * len(inputs)}

    def busy(self) -> bool:
        return bool((self.puzzle >= 0).any())

    def keep_live(self) -> np.ndarray:
        """Drop the idle slots (nothing is left to load): the indices of the slots kept, in order."""
        keep = np.flatnonzero(self.puzzle >= 0)
        self.x, self.ids, self.puzzle = self.x[keep], self.ids[keep], self.puzzle[keep]
        self.k, self.batch = self.k[keep], len(keep)
        self.halt.keep(keep)
        return keep

    def load(self, slot: int, y, z, y0, z0) -> None:
        """Give `slot` the next puzzle, from the initial state (or leave it idle when none is left)."""
        if self.next >= len(self.inputs):
            self.puzzle[slot] = -1
            return
        self.puzzle[slot], self.k[slot] = self.next, 0
        self.x[slot], self.ids[slot] = self.inputs[self.next], self.all_ids[self.next]
        y[slot], z[slot] = _like(y, y0[slot]), _like(z, z0[slot])
        self.next += 1

    def advance(self, answer: np.ndarray, q_halt: np.ndarray, max_steps: int) -> np.ndarray:
        """Count this step for live rows; the slots whose puzzle stops now (the halting rule's and the step limit)."""
        live = self.puzzle >= 0
        self.k[live] += 1
        stop = live & ((self.k >= max_steps) | self.halt.stops(answer, q_halt, self.x, fresh=self.k <= 1, live=live))
        self.answer = answer
        return np.flatnonzero(stop)

    def finish(self, slot: int, logits: np.ndarray, q_halt: float) -> None:
        p = self.puzzle[slot]
        self.out["predictions"][p], self.out["steps"][p] = self.answer[slot], int(self.k[slot])
        self.out["logits"][p], self.out["q_halt"][p] = logits, float(q_halt)

    def result(self) -> SolveResult:
        return SolveResult(np.stack(self.out["predictions"]), np.array(self.out["steps"]),
                           np.stack(self.out["logits"]), np.array(self.out["q_halt"], dtype=np.float32))


def _like(target, value):
    """`value` as the kind of array `target` is (a step may take numpy state and return torch tensors)."""
    if _is_torch(target):
        return target.new_tensor(to_host(value))
    return to_host(value)


def _is_torch(a) -> bool:
    return type(a).__module__.split(".")[0] == "torch"


def _copy(a):
    return a.clone() if _is_torch(a) else np.array(a, copy=True)


def to_host(a) -> np.ndarray:
    """A numpy array from a numpy array or a torch tensor on any device."""
    return a.detach().cpu().numpy() if _is_torch(a) else np.asarray(a)
