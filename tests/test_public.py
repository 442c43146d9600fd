"""The public Python API the README shows: trm_edge.load(path).solve(text) on a checkpoint and on an artifact."""
from __future__ import annotations


import pytest

import trm_edge
from conftest import SUDOKU9

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


def test_load_solves_text_and_checks_it_by_the_rules(tmp_path):
    model = trm_edge.load(SUDOKU9)
    answer = model.solve(PUZZLE)
    assert answer.valid and len(answer.text) == 81
    assert all(p == "." or p == a for p, a in zip(PUZZLE, answer.text))
    many = model.solve([PUZZLE, PUZZLE], tries=2, halting="valid")
    assert [m.text for m in many] == [answer.text] * 2 and all(m.valid and m.copy == 0 for m in many)
    art = model.export("onnx", tmp_path / "art", parity_puzzles=0)
    assert trm_edge.load(art).solve(PUZZLE).text == answer.text
    with pytest.raises(FileNotFoundError, match="no checkpoint or artifact folder"):
        trm_edge.load(tmp_path / "missing")
