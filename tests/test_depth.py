"""Inference-time depth: the same weights run at another T (cycles) and n (latent updates) in solve, export
(graphs, metadata, the net host schedule) and bench, and each gives the answers of the model run there by hand."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.bench import BenchRequest, run_bench
from trm_edge.cli import app
from trm_edge.artifact import read_meta
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.runtime.reference import solve_with_model

DEPTH = ["--h-cycles", "3", "--l-cycles", "1"]


@pytest.fixture(scope="module")
def puzzles(trained_checkpoint):
    ckpt = load_checkpoint(trained_checkpoint)
    return held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 24)


@pytest.fixture(scope="module")
def deep_onnx(trained_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("depth") / "onnx"
    res = CliRunner().invoke(app, ["export", str(trained_checkpoint), "--target", "onnx", "--out", str(out),
                                   "--parity-puzzles", "24", *DEPTH])
    assert res.exit_code == 0, res.output
    return out


def _by_hand(path, data, halting="act", h=3, n=1):
    model = load_checkpoint(path).build_model()
    model.config.H_cycles, model.config.L_cycles = h, n
    return solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=halting)


def test_an_export_at_another_depth_runs_that_depth(trained_checkpoint, deep_onnx, puzzles):
    meta = read_meta(deep_onnx)
    assert (meta.H_cycles, meta.L_cycles) == (3, 1)
    assert json.loads((deep_onnx / "parity.json").read_text())["status"] == "ok"
    got = load_runner(deep_onnx).solve(puzzles.inputs, puzzles.puzzle_identifiers, "act")
    want = _by_hand(trained_checkpoint, puzzles)
    assert (got.predictions == want.predictions).all() and (got.steps == want.steps).all()
    trained = _by_hand(trained_checkpoint, puzzles, h=2, n=2)   # the sudoku4-tiny preset's own depth
    assert not np.allclose(got.logits, trained.logits, atol=1e-3)   # the depth really changed what runs


def test_solve_takes_a_depth_for_checkpoints_and_refuses_it_for_artifacts(trained_checkpoint, deep_onnx, puzzles,
                                                                         tmp_path):
    from trm_edge.data import sudoku

    text = sudoku.to_text(puzzles.inputs[0] - 1)
    res = CliRunner().invoke(app, ["solve", str(trained_checkpoint), text, "--json", "--halting", "act", *DEPTH])
    assert res.exit_code == 0, res.output
    want = _by_hand(trained_checkpoint, puzzles.subset(slice(0, 1)))
    assert json.loads(res.stdout)["steps"] == int(want.steps[0])
    res = CliRunner().invoke(app, ["solve", str(deep_onnx), text, "--h-cycles", "2"])
    assert res.exit_code == 2 and "runs the depth it was exported at (T=3, n=1)" in res.output
    res = CliRunner().invoke(app, ["solve", str(trained_checkpoint), text, "--h-cycles", "0"])
    assert res.exit_code == 2 and "--h-cycles must be a whole number from 1" in res.output


def test_a_net_program_is_scheduled_at_its_exported_depth(trained_checkpoint, puzzles, tmp_path):
    """The host composes T x (n+1) net calls from the metadata: at another depth it must still match PyTorch."""
    from trm_edge.export import export_checkpoint

    art = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "net", recursion="net", parity_puzzles=0, h_cycles=3, l_cycles=1)
    got = load_runner(art).solve(puzzles.inputs, puzzles.puzzle_identifiers, "act")
    want = _by_hand(trained_checkpoint, puzzles)
    assert (got.predictions == want.predictions).all() and (got.steps == want.steps).all()


def test_bench_runs_pytorch_at_the_artifacts_depth(deep_onnx):
    said: list[str] = []
    rows = run_bench(BenchRequest([deep_onnx], [1], puzzles=12, halting=["act"], large_batch=1, repeats=4,
                                  budget_s=1), log=said.append)["rows"]
    assert any("PyTorch runs at T=3, n=1 like the artifacts" in line for line in said)
    by_runtime = {r["runtime"]: r["measured"] for r in rows}
    assert by_runtime["pytorch"]["mean_steps"] == by_runtime["onnx"]["mean_steps"]
    assert by_runtime["pytorch"]["exact_accuracy"] == by_runtime["onnx"]["exact_accuracy"]
