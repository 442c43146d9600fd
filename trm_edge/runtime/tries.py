"""Verified test-time compute: a puzzle is tried as up to K views of itself (the task's deterministic copies),
each answer mapped back to the puzzle as given, and accepted only when the task's rules check passes, so more
tries never make an answer wrong. A puzzle stops at its first accepted copy; the next copy runs only for
puzzles still open (copy by copy, every open puzzle streamed through the runner at once). Where no copy is
accepted, or the task has no rules check, the answer is the vote: the most frequent mapped-back answer, ties
broken by the halting head's confidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..host_loop import Halting, HaltRule, SolveResult, Verifier
from ..data.puzzles import PuzzleSet
from ..tasks import Task, get_task

# (inputs, ids, halting, max_steps) -> answers of every row
RunFn = Callable[[np.ndarray, np.ndarray, Halting, int], SolveResult]


@dataclass
class Tried:
    """One puzzle's outcome over its copies."""

    answer: np.ndarray        # grid, for the puzzle as given
    copy: int                 # the copy whose answer this is
    verified: bool            # the rules accepted it
    steps: int                # supervision steps over every copy run
    copy_steps: int           # steps of the answering copy
    q_halt: float             # the answering copy's last halting logit
    copies: int               # copies run


@dataclass
class _Candidate:
    answer: np.ndarray
    copy: int
    steps: int
    q_halt: float
    verified: bool


@dataclass
class _Open:
    grid: np.ndarray
    ident: int = 0                 # the puzzle identifier every copy runs with
    candidates: list[_Candidate] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return bool(self.candidates) and self.candidates[-1].verified


def verifier_for(task: Task, side: int) -> Verifier | None:
    """The task's rules check on token rows (what 'valid' halting stops on), or None where it has none."""
    if not task.verifies:
        return None

    def verify(inputs: np.ndarray, answers: np.ndarray) -> np.ndarray:
        return np.array([task.verify(task.decode(x, side), task.decode(a, side)) for x, a in zip(inputs, answers)])
    return verify


def bind_halting(halting: Halting, task: Task, side: int) -> Halting:
    """The rule with the task's rules check bound where the rule stops on it."""
    return halting.with_verifier(verifier_for(task, side)) if halting.rule is HaltRule.VALID else halting


def check_tries(tries: int, task: Task, side: int) -> None:
    if tries < 1:
        raise ValueError(f"--tries must be at least 1 (got {tries})")
    if tries > task.view_count(side):
        raise ValueError(f"a {side}x{side} {task.name} has {task.view_count(side)} distinct views: --tries "
                         f"{tries} would repeat copies (at most {task.view_count(side)})")


def solve_with_tries(run: RunFn, task: Task, side: int, grids: list[np.ndarray], halting: Halting, max_steps: int,
                     tries: int = 1, ids: np.ndarray | None = None) -> list[Tried]:
    """Each puzzle's answer after up to `tries` copies (see the module's docstring); `ids`: each puzzle's
    identifier (ARC's task embedding; 0 where the task has none), which every copy keeps."""
    check_tries(tries, task, side)
    halting = bind_halting(Halting.parse(halting), task, side)
    ids = np.zeros(len(grids), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
    puzzles = [_Open(g, int(i)) for g, i in zip(grids, ids)]
    for copy in range(tries):
        open_ = [p for p in puzzles if not p.accepted]
        if not open_:
            break
        view = task.view(side, copy)
        inputs = np.stack([task.encode(view.apply(p.grid)) for p in open_])
        res = run(inputs, np.array([p.ident for p in open_], dtype=np.int64), halting, max_steps)
        for i, p in enumerate(open_):
            answer = view.undo(task.decode(res.predictions[i], side))
            p.candidates.append(_Candidate(answer, copy, int(res.steps[i]), float(res.q_halt[i]),
                                           task.verifies and task.verify(p.grid, answer)))
    return [_outcome(p) for p in puzzles]


def _outcome(p: _Open) -> Tried:
    chosen = p.candidates[-1] if p.accepted else vote(p.candidates)
    return Tried(chosen.answer, chosen.copy, chosen.verified, sum(c.steps for c in p.candidates), chosen.steps,
                 chosen.q_halt, len(p.candidates))


def vote(candidates: list[_Candidate]) -> _Candidate:
    """The most frequent answer; among equally frequent ones, the copy the halting head was surest of."""
    counts: dict[bytes, int] = {}
    for c in candidates:
        counts[c.answer.tobytes()] = counts.get(c.answer.tobytes(), 0) + 1
    return max(candidates, key=lambda c: (counts[c.answer.tobytes()], c.q_halt, -c.copy))


def score(outcomes: list[Tried], expected: list[np.ndarray]) -> dict[str, float]:
    """What `evaluate --json` reports for tries: exact accuracy against the labels, the fraction the rules
    accepted, and verified answers that differ from the label (on puzzles with one solution: must be 0)."""
    right = [bool(np.array_equal(o.answer, e)) for o, e in zip(outcomes, expected)]
    return {"exact_accuracy": float(np.mean(right)),
            "verified": float(np.mean([o.verified for o in outcomes])),
            "verified_wrong": int(sum(o.verified and not r for o, r in zip(outcomes, right))),
            "mean_steps": float(np.mean([o.steps for o in outcomes])),
            "p95_steps": float(np.percentile([o.steps for o in outcomes], 95)),
            "mean_copies": float(np.mean([o.copies for o in outcomes])),
            "puzzles": len(outcomes)}


def solve_puzzle_set(run: RunFn, data: PuzzleSet, halting: Halting, max_steps: int, tries: int,
                     chunk: int | None = None, on_progress: Callable[[int], None] | None = None) -> list[Tried]:
    """A puzzle set's token rows solved with tries (`chunk` puzzles at a time, `on_progress(done)` after each):
    what evaluate and the bench run."""
    task, side = get_task(data.meta.task), data.meta.grid_shape[0]
    grids = [task.decode(x, side) for x in data.inputs]
    size = chunk or len(grids)
    outcomes: list[Tried] = []
    for start in range(0, len(grids), size):
        outcomes += solve_with_tries(run, task, side, grids[start:start + size], halting, max_steps, tries,
                                     data.puzzle_identifiers[start:start + size])
        if on_progress is not None:
            on_progress(len(outcomes))
    return outcomes


def score_puzzle_set(outcomes: list[Tried], data: PuzzleSet) -> dict[str, float]:
    """`score` against the set's labels."""
    task, side = get_task(data.meta.task), data.meta.grid_shape[0]
    return score(outcomes, [task.decode(y, side) for y in data.labels])
