"""Continuous batching: rows that stop hand their slot to the next puzzle, and every puzzle gets the answer and
the step count it gets when solved alone."""
from __future__ import annotations


import numpy as np
import pytest

from trm_edge.datasets.splits import DataSpec, band_split
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.host_loop import solve, solve_stream
from trm_edge.runtime.reference import initial_state, torch_step
from conftest import SUDOKU9 as CHECKPOINT


@pytest.fixture(scope="module")
def model_and_puzzles():
    ckpt = load_checkpoint(CHECKPOINT)
    return ckpt.build_model(), band_split(DataSpec.from_saved(ckpt.info["data_spec"]), None, 24)


def _alone(step, init, data, halting, max_steps):
    """Each puzzle solved by itself: the reference."""
    out = []
    for i in range(len(data)):
        y, z = init(1)
        out.append(solve(step, y, z, data.inputs[i:i + 1], data.puzzle_identifiers[i:i + 1], max_steps, halting))
    return np.concatenate([r.predictions for r in out]), np.concatenate([r.steps for r in out])


@pytest.mark.parametrize("halting", ["act", "stable-2", "fixed"])
def test_streamed_pytorch_rows_answer_as_they_do_alone(model_and_puzzles, halting):
    model, data = model_and_puzzles
    step = torch_step(model)
    want_pred, want_steps = _alone(step, lambda b: initial_state(model, b), data, halting, 24)
    for shrink in (False, True):
        got = solve_stream(step, lambda: initial_state(model, 5), data.inputs, data.puzzle_identifiers, 24, halting,
                           shrink=shrink)
        assert np.array_equal(got.steps, want_steps) and np.array_equal(got.predictions, want_pred)
    assert halting == "fixed" or len(set(got.steps.tolist())) > 1   # rows really stopped at different steps


def test_a_batched_artifact_streams_its_rows(model_and_puzzles, tmp_path):
    pytest.importorskip("onnxruntime")
    from trm_edge.export import export_checkpoint
    from trm_edge.runtime.artifacts import load_runner

    folder = export_checkpoint(CHECKPOINT, "onnx", tmp_path / "b4", batch=4, parity_puzzles=0)
    runner = load_runner(folder)
    model, data = model_and_puzzles
    got = runner.solve(data.inputs, data.puzzle_identifiers, halting="stable-2", max_steps=32)
    single = load_runner(export_checkpoint(CHECKPOINT, "onnx", tmp_path / "b1", parity_puzzles=0))
    want = single.solve(data.inputs, data.puzzle_identifiers, halting="stable-2", max_steps=32)
    assert np.array_equal(got.steps, want.steps) and np.array_equal(got.predictions, want.predictions)
