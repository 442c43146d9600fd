"""Puzzles in, checked answers out: what `trm-edge solve` runs, from a checkpoint or any artifact folder.

Imports no torch for artifact folders (ONNX, LiteRT): the torch-free runtime install runs this module.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..tasks import Task, get_task
from ..host_loop import Halting, SolveResult, check_max_steps, to_host
from ..settings import INFO_KEY, Chosen, InferenceSettings, choose
from .tries import solve_with_tries


@dataclass
class Source:
    """A model that can solve puzzles, whatever runs it."""

    label: str                       # "pytorch (checkpoint.pt)" or "onnx step int8"
    task: Task
    side: int
    max_steps: int
    batch: int
    run: Callable[..., SolveResult]  # (inputs, ids, halting, on_step, max_steps) -> SolveResult
    depth: tuple[int, int] = (1, 1)  # (T, n) it runs at: what a supervision step costs in net calls
    settings: InferenceSettings | None = None   # what the model records it runs best at (settings.choose)


@dataclass
class Answer:
    """One solved puzzle, checked by the rules of the game (not by the model)."""

    puzzle: np.ndarray
    answer: np.ndarray
    steps: int
    halted_by: str                   # "q_halt", "stable answer" or "step limit"
    seconds: float
    valid: bool                      # a complete grid that obeys every rule
    keeps_givens: bool
    expected: np.ndarray | None = None
    trace: list[np.ndarray] = field(default_factory=list)
    copy: int = 0                    # the copy (view) whose answer this is (tries)
    copies: int = 1                  # copies run; `steps` counts the steps of all of them

    @property
    def correct(self) -> bool | None:
        return None if self.expected is None else bool(np.array_equal(self.answer, self.expected))


def open_source(path: Path, threads: int | None = None, h_cycles: int | None = None,
                l_cycles: int | None = None) -> Source:
    """A checkpoint file (PyTorch, at the trained depth or the T / n given) or an artifact folder (its own
    runtime, verified before it runs, at the depth it was exported at)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint or artifact folder at {path}")
    if path.is_dir():
        from .artifacts import load_runner

        runner = load_runner(path, threads)
        meta = runner.meta
        if (h_cycles or meta.H_cycles, l_cycles or meta.L_cycles) != (meta.H_cycles, meta.L_cycles):
            raise ValueError(f"{path} runs the depth it was exported at (T={meta.H_cycles}, n={meta.L_cycles}): "
                             "export it again with --h-cycles / --l-cycles for another")
        side = (meta.grid_shape or [int(np.sqrt(meta.seq_len))])[0]
        label = f"{meta.target} {meta.recursion} {meta.quantize}"
        return Source(label, _solvable(meta.task, path), side, meta.halt_max_steps, meta.batch,
                      lambda x, ids, halting, on_step, max_steps: runner.solve(x, ids, halting, max_steps, on_step),
                      (meta.H_cycles, meta.L_cycles), InferenceSettings.from_dict(meta.extra.get(INFO_KEY)))
    from ..model.checkpoint import load_checkpoint

    return _checkpoint_source(load_checkpoint(path), path, threads, h_cycles, l_cycles)


def recorded_settings(path: Path) -> InferenceSettings | None:
    """The inference settings a checkpoint or an artifact's metadata records (None: none)."""
    path = Path(path)
    if path.is_dir():
        from ..artifact import read_meta

        return InferenceSettings.from_dict(read_meta(path).extra.get(INFO_KEY))
    if not path.is_file():
        return None
    from ..model.checkpoint import load_checkpoint

    return load_checkpoint(path).settings


def open_chosen(path: Path, threads: int | None = None, h_cycles: int | None = None, l_cycles: int | None = None,
                halting: str | None = None, max_steps: int | None = None,
                tries: int | None = None) -> tuple[Source, Chosen]:
    """`open_source` at the model's recorded settings where an option does not say otherwise (settings.choose);
    a checkpoint is read once, its settings and weights together."""
    path = Path(path)
    if path.is_file():
        from ..model.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path)
        chosen = choose(ckpt.settings, h_cycles, l_cycles, halting, max_steps, tries)
        src = _checkpoint_source(ckpt, path, threads, chosen.h_cycles, chosen.l_cycles)
    else:   # an artifact folder (its metadata is read before the runtime opens it), or nothing: open_source says
        chosen = choose(recorded_settings(path), h_cycles, l_cycles, halting, max_steps, tries)
        src = open_source(path, threads, chosen.h_cycles, chosen.l_cycles)
    return with_max_steps(src, chosen.max_steps), chosen


def with_max_steps(src: Source, max_steps: int | None) -> Source:
    """The source with another step limit (None keeps its own)."""
    if max_steps is None:
        return src
    check_max_steps(max_steps)
    return replace(src, max_steps=max_steps)


def _checkpoint_source(ckpt, path: Path, threads: int | None, h_cycles: int | None, l_cycles: int | None) -> Source:
    import torch   # only the PyTorch path needs it

    from .reference import TorchRunner

    if threads:
        torch.set_num_threads(threads)
    settings = ckpt.settings
    ckpt = ckpt.at_depth(h_cycles, l_cycles)
    model = ckpt.build_model()
    meta = ckpt.data_meta
    if meta is None or not meta.grid_shape:
        raise ValueError(f"{path}: solve needs a checkpoint that records its task and grid size")
    task = _solvable(meta.task, path)

    runner = TorchRunner(model, batch=PYTORCH_BATCH)
    return Source(f"pytorch ({path.name})", task, meta.grid_shape[0], model.config.halt_max_steps, PYTORCH_BATCH,
                  lambda x, ids, halting, on_step, max_steps: runner.solve(x, ids, halting, max_steps, on_step),
                  (model.config.H_cycles, model.config.L_cycles), settings)


PYTORCH_BATCH = 64   # rows in flight when PyTorch solves many puzzles


def _solvable(name: str, path: Path) -> Task:
    task = get_task(name)
    if not task.solvable:
        raise ValueError(f"{path}: solve handles tasks whose answers the rules can check; {name} is not one")
    return task


def parse_puzzle(source: Source, text: str) -> np.ndarray:
    """Puzzle text -> grid for this source's task and size (one-line ValueError otherwise)."""
    return source.task.parse(text, source.side)


def puzzle_lines(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, question, answer or None) of a puzzle file: bare puzzles or the official CSV columns."""
    if not path.is_file():
        raise FileNotFoundError(f"no puzzle file at {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")   # -sig: a byte-order mark is not part of the first line
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("source,"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3:   # official CSV: source, question, answer, rating
            question, answer = parts[1], parts[2] or None
        else:                 # a bare puzzle, or "question,answer"
            question, answer = parts[0], (parts[1] or None) if len(parts) == 2 else None
        rows.append((lineno, question, answer))
    if not rows:
        raise ValueError(f"{path}: no puzzles")
    return rows


def encode(source: Source, grid: np.ndarray) -> np.ndarray:
    return source.task.encode(grid)


def decode(source: Source, tokens: np.ndarray) -> np.ndarray:
    return source.task.decode(tokens, source.side)


def grid_text(source: Source, grid: np.ndarray) -> str:
    """The one-line text form of a grid (what `parse_puzzle` reads back)."""
    return source.task.to_text(grid)


def check(source: Source, puzzle: np.ndarray, answer: np.ndarray) -> tuple[bool, bool]:
    """(valid by the rules, keeps every given)."""
    return source.task.check(puzzle, answer)


def solve_batch(source: Source, grids: list[np.ndarray], halting: Halting, trace: bool = False,
                expected: list[np.ndarray | None] | None = None, tries: int = 1) -> list[Answer]:
    """Solve puzzles together (one batch of the source's size at a time is the runner's business), each with up to
    `tries` copies checked by the rules (runtime/tries.py)."""
    if trace and tries > 1:
        raise ValueError("--trace shows one copy's steps: use it without --tries")
    snapshots: list[np.ndarray] = []   # with trace: the answer after every step (one puzzle per call)

    def on_step(k, predictions, q_halt):
        snapshots.append(np.array(to_host(predictions)))

    def run(x, ids, rule, max_steps):
        return source.run(x, ids, rule, on_step if trace else None, max_steps)

    t0 = time.perf_counter()
    outcomes = solve_with_tries(run, source.task, source.side, grids, halting, source.max_steps, tries)
    seconds = time.perf_counter() - t0
    # puzzles share the runner's calls (a batch, a stream): each is given the call's time in proportion to its steps
    per_step = seconds / max(1, sum(out.steps for out in outcomes))
    answers = []
    for i, (grid, out) in enumerate(zip(grids, outcomes)):
        valid, keeps = check(source, grid, out.answer)
        halted = halting.reason(out.copy_steps, source.max_steps, out.q_halt, valid and keeps)
        answers.append(Answer(grid, out.answer, out.steps, halted, per_step * out.steps, valid, keeps,
                              (expected or [None] * len(grids))[i],
                              [decode(source, s[i]) for s in snapshots[: out.steps]], out.copy, out.copies))
    return answers
