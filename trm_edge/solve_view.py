"""What `trm-edge solve` shows: the grid with givens and filled cells told apart, the verdict by the rules,
a step-by-step trace, and the summary of a file of puzzles (progress lines when not on a terminal)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import typer
from tqdm.auto import tqdm

from .progress import shown
from .runtime.solver import check, grid_text, parse_puzzle, solve_batch


TRACE_LEGEND = ("the model's answer after each supervision step: givens in bold, cells it filled in cyan, cells "
                "changed since the step before in yellow")


def solve_one(src, text: str, rule, trace: bool, as_json: bool, tries: int = 1) -> None:
    ans = solve_batch(src, [parse_puzzle(src, text)], rule, trace=trace, tries=tries)[0]
    if as_json:
        typer.echo(json.dumps(_answer_json(src, ans), indent=2))
    else:
        _print_answer(src, ans, trace)
    if not (ans.valid and ans.keeps_givens):   # the same exit code in text and JSON mode
        raise typer.Exit(1)


def _print_answer(src, ans, trace: bool) -> None:
    if trace and ans.trace:   # one copy (--trace refuses --tries): its last step is the answer, drawn once
        typer.echo(TRACE_LEGEND)
        for k, grid in enumerate(ans.trace, start=1):
            typer.echo(f"step {k}{' (the answer)' if k == len(ans.trace) else ''}:")
            typer.echo(_render(src, ans.puzzle, grid, ans.trace[k - 2] if k > 1 else None))
    else:
        typer.echo(_render(src, ans.puzzle, ans.answer))
    verdict = ("a valid solution that keeps every given" if ans.valid and ans.keeps_givens else
               "NOT a valid solution" + ("" if ans.keeps_givens else " (it changes a given)"))
    verdict += _solutions_remark(src.task.solution_count(ans.puzzle))
    tried = (f", answer from copy {ans.copy} of {ans.copies} tried" if ans.copies > 1 else "")
    typer.echo(f"{src.label}: {ans.steps} supervision step{'s' if ans.steps != 1 else ''} (halted by {ans.halted_by}"
               f"{tried}), {1000 * ans.seconds / max(ans.steps, 1):.1f} ms/step, {1000 * ans.seconds:.0f} ms in all")
    typer.secho(f"answer: {verdict}", fg=typer.colors.GREEN if ans.valid and ans.keeps_givens else typer.colors.RED)


def _solutions_remark(count: int | None) -> str:
    """What the puzzle itself allows, where the task can tell: no answer can pass the rules, or several can."""
    if count == 0:
        return "; the puzzle has no solution, so no answer can pass the rules"
    return "; the puzzle has more than one solution (the rules accept any)" if count and count > 1 else ""


def _answer_json(src, ans) -> dict:
    out = {"puzzle": grid_text(src, ans.puzzle), "answer": grid_text(src, ans.answer), "steps": ans.steps,
           "halted_by": ans.halted_by, "seconds": ans.seconds, "valid": ans.valid, "keeps_givens": ans.keeps_givens,
           "copy": ans.copy, "copies": ans.copies}
    if ans.correct is not None:
        out["correct"] = ans.correct
    if ans.trace:
        out["trace"] = [grid_text(src, g) for g in ans.trace]
    return out


def _render(src, puzzle, answer, previous=None) -> str:
    """The grid with givens plain and filled cells coloured (changed since `previous` in yellow), in boxes where
    the task has them."""
    n, task = src.side, src.task
    box_rows, box_cols = task.boxes(n) or (n, n)
    lines = []
    for r in range(n):
        cells, plain = [], []
        for c in range(n):
            text, given = task.cell(puzzle, answer, r, c)
            plain.append(text)
            colour = None if given else (typer.colors.YELLOW if previous is not None and previous[r, c] != answer[r, c]
                                         else typer.colors.CYAN)
            cells.append(typer.style(text, fg=colour, bold=given) if colour or given else text)
            if (c + 1) % box_cols == 0 and c + 1 < n:
                cells.append("|")
                plain.append("|")
        lines.append(task.cell_joiner.join(cells))
        width = len(task.cell_joiner.join(plain))
        if (r + 1) % box_rows == 0 and r + 1 < n:
            lines.append("-" * width)
    return "\n".join(lines)


def parse_answer(src, puzzle: np.ndarray, text: str) -> np.ndarray:
    """An answer column, scored against only when it is a solution of its puzzle by the rules."""
    try:
        answer = parse_puzzle(src, text)
    except ValueError as exc:   # the puzzle reader's words are about givens; these are the answer's cells
        reason = str(exc).replace("contradictory givens: ", "")
        raise ValueError(f"the answer column is not a solution of the puzzle ({reason})") from None
    valid, keeps = check(src, puzzle, answer)
    if not (valid and keeps):
        raise ValueError("the answer column is not a solution of the puzzle"
                         + ("" if keeps else " (it changes a given)"))
    return answer


MISSED_SHOWN = 12   # line numbers of unsolved puzzles named in the summary
STREAM_CHUNK = 8   # batches of puzzles handed to the runner at once (rows stream through its batch)


def solve_file(src, path: Path, lines, rule, as_json: bool, tries: int = 1) -> None:
    grids, expected = [], []
    for lineno, question, answer in lines:
        try:
            grids.append(parse_puzzle(src, question))
            expected.append(parse_answer(src, grids[-1], answer) if answer else None)
        except ValueError as exc:
            raise ValueError(f"{path}:{lineno}: {exc}") from None
    answers = []
    t0 = time.perf_counter()
    live = sys.stderr.isatty() and not as_json and shown()
    chunk_size = src.batch * STREAM_CHUNK   # continuous batching inside a chunk; progress between chunks
    with tqdm(total=len(grids), disable=not live, desc="solve", unit="puzzle") as bar:
        for start in range(0, len(grids), chunk_size):
            chunk = slice(start, start + chunk_size)
            answers += solve_batch(src, grids[chunk], rule, expected=expected[chunk], tries=tries)
            bar.update(len(answers) - bar.n)
            if not live and not as_json and shown() and len(grids) >= 10 and (len(answers) * 10 // len(grids)) > (
                    (len(answers) - len(grids[chunk])) * 10 // len(grids)):
                typer.echo(f"solve: {len(answers)}/{len(grids)} puzzles", err=True)
    seconds = time.perf_counter() - t0
    scored = [a for a in answers if a.correct is not None]
    summary = {"source": src.label, "puzzles": len(answers), "halting": str(rule), "tries": tries,
               "valid_solutions": sum(a.valid and a.keeps_givens for a in answers) / len(answers),
               "exact_accuracy": sum(a.correct for a in scored) / len(scored) if scored else None,
               "scored": len(scored), "mean_steps": float(np.mean([a.steps for a in answers])),
               "puzzles_per_second": len(answers) / seconds}
    if as_json:
        typer.echo(json.dumps({**summary, "results": [_answer_json(src, a) for a in answers]}, indent=2))
        return
    acc = f"exact accuracy {summary['exact_accuracy']:.3f} on {len(scored)} with answers, " if scored else ""
    typer.echo(f"{src.label}: {len(answers)} puzzles, {acc}valid solutions {summary['valid_solutions']:.3f}, "
               f"mean steps {summary['mean_steps']:.2f}, {summary['puzzles_per_second']:.1f} puzzles/s")
    missed = [lineno for (lineno, _, _), a in zip(lines, answers) if not (a.valid and a.keeps_givens)
              or a.correct is False]
    if missed:
        shown_lines = ", ".join(map(str, missed[:MISSED_SHOWN])) + (f" and {len(missed) - MISSED_SHOWN} more"
                                                                     if len(missed) > MISSED_SHOWN else "")
        typer.echo(f"not solved: line{'s' if len(missed) > 1 else ''} {shown_lines} of {path} (--json for each answer)")
