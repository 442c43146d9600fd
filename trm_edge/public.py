"""The small public Python API: `trm_edge.load(path)` gives a model (a checkpoint or an artifact folder) that
solves puzzles as text, evaluates and exports, at its recorded settings unless told otherwise.

    import trm_edge
    model = trm_edge.load("models/sudoku9-hard/checkpoint.pt")
    answer = model.solve("4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......")
    print(answer.text, answer.valid, answer.steps)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .host_loop import Halting
from .runtime.solver import Answer, Source, grid_text, open_chosen, parse_puzzle, solve_batch, with_max_steps
from .runtime.tries import check_tries
from .settings import choose


@dataclass
class Solved:
    """One puzzle's answer, checked by the puzzle's rules."""

    text: str          # the answer in the task's text form
    valid: bool        # a valid solution that keeps every given
    steps: int         # supervision steps, every copy counted
    copy: int          # which copy (view) of the puzzle gave it
    answer: Answer     # everything else (grids, halting reason, time)


class Model:
    """A checkpoint or an artifact folder, ready to use."""

    def __init__(self, path: str | Path, threads: Optional[int] = None) -> None:
        self.path, self.threads = Path(path), threads
        self._source: Source | None = None   # opened on the first solve, at the recorded depth and step limit

    def solve(self, puzzles: str | list[str], *, tries: Optional[int] = None, halting: Optional[str] = None,
              max_steps: Optional[int] = None) -> Solved | list[Solved]:
        """Solve one puzzle (text) or a list of them; settings not given are the model's recorded ones."""
        if self._source is None:
            self._source, _ = open_chosen(self.path, self.threads)
        chosen = choose(self._source.settings, None, None, halting, max_steps, tries)
        src = with_max_steps(self._source, chosen.max_steps)
        check_tries(chosen.tries, src.task, src.side)
        texts = [puzzles] if isinstance(puzzles, str) else list(puzzles)
        answers = solve_batch(src, [parse_puzzle(src, t) for t in texts], Halting.parse(chosen.halting),
                              tries=chosen.tries)
        out = [Solved(grid_text(src, a.answer), a.valid and a.keeps_givens, a.steps, a.copy, a) for a in answers]
        return out[0] if isinstance(puzzles, str) else out

    def evaluate(self, **options: Any) -> dict[str, Any]:
        """Exact accuracy on held-out puzzles (checkpoints; options as `trm-edge evaluate`'s)."""
        from .train.evaluate_job import EvaluateJob, run_evaluate

        return run_evaluate(EvaluateJob(self.path, **options))

    def export(self, target: str, out: str | Path, **options: Any) -> Path:
        """An artifact folder for `target` (checkpoints; options as `trm-edge export`'s)."""
        from .export import export_checkpoint

        return export_checkpoint(self.path, target, out, **options)


def load(path: str | Path, threads: Optional[int] = None) -> Model:
    """A checkpoint (.pt) or an artifact folder; nothing runs until it is asked to."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no checkpoint or artifact folder at {path}")
    return Model(path, threads)
