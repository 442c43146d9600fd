"""The fp32 parity verdict judges what matters: the cells of the puzzles PyTorch solves. Cells of puzzles neither
side solves (where the recursion is chaotic and one rounding flips the wrong answer) are reported, not judged."""
from __future__ import annotations

import numpy as np

from trm_edge.data import DatasetMeta, PuzzleSet
from trm_edge.export.parity import compare
from trm_edge.host_loop import SolveResult


def _data(n: int = 10, cells: int = 16) -> PuzzleSet:
    labels = np.tile(np.arange(2, 2 + cells) % 5 + 2, (n, 1))
    meta = DatasetMeta(vocab_size=7, seq_len=cells, total_groups=n, total_puzzles=n, task="sudoku", grid_shape=(4, 4))
    return PuzzleSet(np.ones_like(labels), labels, np.zeros(n, dtype=np.int64), meta)


def _result(predictions: np.ndarray) -> SolveResult:
    n = len(predictions)
    return SolveResult(predictions, np.full(n, 16), np.zeros((n, predictions.shape[1], 7), np.float32),
                       np.zeros(n, np.float32))


def test_cells_of_puzzles_nobody_solves_do_not_fail_fp32():
    data = _data()
    ref = data.labels.copy()
    ref[5:] = 2                       # PyTorch solves the first five only
    art = ref.copy()
    art[5:, :8] = 3                   # the artifact ends on other wrong answers there: half their cells differ
    verdict = compare(_result(art), _result(ref), data, "none")
    assert verdict["cell_agreement"] == 0.75 and verdict["cell_agreement_judged"] == 1.0
    assert verdict["within_budget"], verdict.get("reason")
    assert verdict["cells_judged_on"] == "the 5 puzzles PyTorch solves"


def test_a_wrong_cell_on_a_solved_puzzle_fails_fp32_and_says_where():
    data = _data()
    ref = data.labels.copy()
    art = ref.copy()
    art[0, 0] = 6
    verdict = compare(_result(art), _result(ref), data, "none")
    assert not verdict["within_budget"]
    assert "of the cells of the 10 puzzles PyTorch solves" in verdict["reason"]
