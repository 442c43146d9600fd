"""Verified test-time compute: copies of a puzzle under the task's deterministic views, answers mapped back and
accepted only by the rules; 'valid' halting; the vote where a task has no rules check."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.data import maze, sudoku
from trm_edge.data.views import mulberry32, permutation
from trm_edge.host_loop import Halting, SolveResult, solve, solve_stream
from trm_edge.runtime.tries import score, solve_with_tries, verifier_for
from trm_edge.tasks import Task, get_task
from conftest import SUDOKU9_HARD as HARD

# A held-out minimal puzzle (data spec of models/sudoku9-hard, band minimal, #1) that the model at T=4, n=1 leaves
# wrong alone within 32 steps and solves on its second copy.
MISSED_ALONE = "....2....513.4....4....7.1...8..2.......3..65.3....2...9.5..6.1...49.5.7........."


def test_the_copy_rule_is_the_documented_one():
    """mulberry32 and Fisher-Yates as data/views.py writes them, so other languages can check their ports
    against these numbers; copy 0 is the puzzle as given."""
    rng = mulberry32(1)
    assert [next(rng) for _ in range(3)] == [2693262067, 11749833, 2265367787]
    first = permutation(mulberry32(7), 9)
    assert sorted(first.tolist()) == list(range(9)) and first.tolist() == permutation(mulberry32(7), 9).tolist()
    grid = sudoku.generate(1, 9, seed=0)[0][0]
    assert np.array_equal(get_task("sudoku").view(9, 0).apply(grid), grid)
    views = {get_task("sudoku").view(9, k).apply(grid).tobytes() for k in range(1, 33)}
    assert len(views) == 32   # distinct copies


@pytest.mark.parametrize("name, side", [("sudoku", 9), ("sudoku", 6), ("sudoku", 4), ("maze", 7)])
def test_every_view_keeps_validity_and_maps_back(name, side):
    task = get_task(name)
    pairs = sudoku.generate(3, side, seed=2) if name == "sudoku" else maze.generate(3, side, 0)
    for puzzle, solution in pairs:
        for k in range(min(task.view_count(side), 12)):
            view = task.view(side, k)
            assert task.verify(view.apply(puzzle), view.apply(solution)), (k, side)
            assert np.array_equal(view.undo(view.apply(solution)), solution)


def _corruptions(puzzle: np.ndarray, solution: np.ndarray) -> list[np.ndarray]:
    """Wrong answers: two blank cells of one row swapped, one digit changed, a given changed in a valid grid."""
    out = []
    blanks = np.argwhere(puzzle == 0)
    r, c = blanks[0]
    other = [cc for cc in range(9) if puzzle[r, cc] == 0 and cc != c][0]
    swapped = solution.copy()
    swapped[r, c], swapped[r, other] = swapped[r, other], swapped[r, c]
    out.append(swapped)
    changed = solution.copy()
    changed[r, c] = changed[r, c] % 9 + 1
    out.append(changed)
    relabelled = sudoku.view(9, 3).values[solution]   # a valid grid that changes the givens
    out.append(relabelled)
    blank = solution.copy()
    blank[r, c] = 0
    out.append(blank)
    return out


def test_the_sudoku_verifier_rejects_every_wrong_answer_it_is_shown():
    task = get_task("sudoku")
    for puzzle, solution in sudoku.generate(20, 9, seed=4):
        assert task.verify(puzzle, solution)
        for wrong in _corruptions(puzzle, solution):
            assert not task.verify(puzzle, wrong)


def test_a_puzzle_missed_alone_is_solved_by_a_later_copy():
    args = ["solve", str(HARD), MISSED_ALONE, "--h-cycles", "4", "--l-cycles", "1", "--max-steps", "32", "--json"]
    alone = CliRunner().invoke(app, args + ["--halting", "valid-2", "--tries", "1"])
    assert alone.exit_code == 1 and not json.loads(alone.stdout)["valid"], alone.output
    tried = CliRunner().invoke(app, args + ["--halting", "valid-2", "--tries", "4"])
    out = json.loads(tried.stdout)
    assert tried.exit_code == 0 and out["valid"] and out["keeps_givens"] and out["copy"] >= 1, tried.output
    assert out["halted_by"] == "valid answer" and out["copies"] == out["copy"] + 1


def _scripted_run(answers_by_call: list[np.ndarray], q_by_call: list[np.ndarray]):
    calls = []

    def run(x, ids, halting, max_steps):
        k = len(calls)
        calls.append(len(x))
        return SolveResult(answers_by_call[k][: len(x)], np.full(len(x), 3), np.zeros((len(x), 1, 1)),
                           q_by_call[k][: len(x)])
    return run, calls


class _NoRules(Task):
    """A task with three identity views and no rules check: tries vote."""
    name, verifies = "no-rules", False

    def encode(self, grid):
        return grid.reshape(-1)

    def decode(self, tokens, side):
        return np.asarray(tokens).reshape(side, side)

    def view_count(self, side):
        return 3

    meta = codec = parse = to_text = cell = None   # type: ignore[assignment]

    def check(self, puzzle, answer):
        return True, True


def test_without_a_rules_check_the_most_frequent_answer_wins_ties_by_confidence():
    a, b, c = (np.full((1, 4), v) for v in (1, 2, 3))
    run, calls = _scripted_run([np.concatenate([a, c]), np.concatenate([b, a]), np.concatenate([b, b])],
                               [np.array([0.0, 5.0]), np.array([1.0, -1.0]), np.array([0.5, -2.0])])
    out = solve_with_tries(run, _NoRules(), 2, [np.zeros((2, 2), int)] * 2, Halting.parse("act"), 8, tries=3)
    assert calls == [2, 2, 2]                       # no answer is accepted, so every copy runs
    assert out[0].answer.ravel().tolist() == [2, 2, 2, 2] and out[0].copy == 1   # b twice; the surer of the two
    # three different answers once each: the one the halting head was surest of (q_halt 5.0, copy 0)
    assert out[1].answer.ravel().tolist() == [3, 3, 3, 3] and out[1].copy == 0
    assert not out[1].verified and out[1].steps == 9 and out[1].copies == 3


def test_a_verified_puzzle_runs_no_more_copies_and_score_counts_verified_wrong():
    task = get_task("sudoku")
    (p1, s1), (p2, s2) = sudoku.generate(2, 4, seed=9)
    wrong = s2.copy()
    wrong[0, 0], wrong[0, 1] = wrong[0, 1], wrong[0, 0]
    view1 = task.view(4, 1)
    run, calls = _scripted_run(
        [np.stack([task.encode(s1), task.encode(wrong)]), np.stack([task.encode(view1.apply(s2))])],
        [np.zeros(2), np.zeros(1)])
    out = solve_with_tries(run, task, 4, [p1, p2], Halting.parse("act"), 8, tries=4)
    assert calls == [2, 1]                          # puzzle 1 was accepted on copy 0; puzzle 2 on copy 1
    assert [o.copy for o in out] == [0, 1] and all(o.verified for o in out) and out[1].steps == 6
    report = score(out, [s1, s2])
    assert report["exact_accuracy"] == 1.0 and report["verified_wrong"] == 0
    assert score(out, [s1, wrong])["verified_wrong"] == 1   # a label that differs from a verified answer


def test_valid_halting_stops_at_the_first_accepted_step_in_batch_and_stream():
    """A scripted step whose answer becomes the solution at a row-dependent step: 'valid' stops there, the
    stream and the batch loop agree, and a task without a rules check refuses the rule."""
    task = get_task("sudoku")
    pairs = sudoku.generate(5, 4, seed=3)
    inputs = np.stack([task.encode(p) for p, _ in pairs])
    solutions = np.stack([task.encode(s) for _, s in pairs])
    right_at = np.array([2, 5, 1, 7, 3])
    vocab = int(solutions.max()) + 1

    def step(x, ids, y, z):
        rows = [int(np.flatnonzero((inputs == r).all(1))[0]) for r in x]
        k = z[:, 0, 0] + 1
        answers = np.where((k >= right_at[rows])[:, None], solutions[rows], x)
        logits = np.eye(vocab)[answers]
        z = z.copy()
        z[:, 0, 0] = k
        return y, z, logits, np.full(len(x), -1.0)

    rule = Halting.parse("valid").with_verifier(verifier_for(task, 4))
    state = lambda n: (np.zeros((n, 1, 1)), np.zeros((n, 1, 1)))   # noqa: E731
    batch = solve(step, *state(5), inputs, np.zeros(5, int), 16, rule)
    stream = solve_stream(step, lambda: state(2), inputs, np.zeros(5, int), 16, rule)
    assert batch.steps.tolist() == right_at.tolist() == stream.steps.tolist()
    assert (batch.predictions == solutions).all() and (stream.predictions == solutions).all()
    with pytest.raises(ValueError, match="needs a task whose rules check"):
        Halting.parse("valid").with_verifier(None)


def test_tries_options_are_checked_before_work():
    res = CliRunner().invoke(app, ["solve", str(HARD), MISSED_ALONE, "--tries", "0"])
    assert res.exit_code == 2 and "--tries must be at least 1" in res.output
    res = CliRunner().invoke(app, ["solve", str(HARD), MISSED_ALONE, "--tries", "2", "--trace"])
    assert res.exit_code == 2 and "--trace shows one copy" in res.output
    res = CliRunner().invoke(app, ["solve", str(HARD), MISSED_ALONE, "--halting", "valid-0"])
    assert res.exit_code == 2 and "valid-K with K >= 1" in res.output
