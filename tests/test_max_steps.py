"""Test-time steps: running more (or fewer) supervision steps than the model was trained with."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import tiny_config
from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.datasets.splits import DataSpec
from trm_edge.export import export_checkpoint
from trm_edge.model import TRM
from trm_edge.model.checkpoint import save_checkpoint
from trm_edge.model.trm import Carry
from trm_edge.runtime.artifacts import load_runner
from trm_edge.runtime.reference import solve_with_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = TRM(tiny_config(vocab_size=sudoku.vocab_size(4), seq_len=16, halt_max_steps=4)).eval()
    path = tmp_path_factory.mktemp("steps") / "checkpoint.pt"
    spec = DataSpec(task="sudoku", grid_size=4, train_puzzles=20, test_puzzles=8)
    save_checkpoint(path, model, sudoku.meta(4, 20), info={"data_spec": dataclasses.asdict(spec)})
    return path, model


def test_more_steps_than_trained_equal_the_loop_run_by_hand(checkpoint):
    _, model = checkpoint
    data = sudoku.to_puzzle_set(sudoku.generate(3, 4, seed=1))
    res = solve_with_model(model, data.inputs, data.puzzle_identifiers, max_steps=11, halting="fixed")
    carry = model.initial_carry(len(data), torch.device("cpu"))
    with torch.no_grad():
        for _ in range(11):   # N_sup is 4: the same step, seven more times
            out = model(Carry(carry.y, carry.z), torch.as_tensor(data.inputs), torch.as_tensor(data.puzzle_identifiers))
            carry = out.carry
    assert res.steps.tolist() == [11, 11, 11]
    np.testing.assert_allclose(res.logits, out.logits.numpy(), atol=1e-5)


def test_solve_and_artifacts_take_max_steps(checkpoint, tmp_path):
    path, model = checkpoint
    puzzle = sudoku.to_text(sudoku.generate(1, 4, seed=2)[0][0])
    res = CliRunner().invoke(app, ["solve", str(path), puzzle, "--max-steps", "9", "--halting", "fixed", "--json"])
    assert json.loads(res.stdout)["steps"] == 9, res.output
    art = export_checkpoint(path, "onnx", tmp_path / "onnx", parity_puzzles=0)
    x = sudoku.encode(sudoku.parse(puzzle))[None]
    ids = np.zeros(1, np.int64)
    got = load_runner(art).solve(x, ids, "fixed", max_steps=9)
    want = solve_with_model(model, x, ids, max_steps=9)
    assert got.steps.tolist() == [9] and (got.predictions == want.predictions).all()
    res = CliRunner().invoke(app, ["solve", str(path), puzzle, "--max-steps", "0"])
    assert res.exit_code == 2 and "--max-steps must be a whole number from 1 to 1,024" in res.output
    unrolled = export_checkpoint(path, "onnx", tmp_path / "unrolled", recursion="unrolled", parity_puzzles=0)
    res = CliRunner().invoke(app, ["solve", str(unrolled), puzzle, "--max-steps", "9"])
    assert res.exit_code == 2 and "runs the 4 steps baked into its graph" in res.output, res.output
