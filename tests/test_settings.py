"""Models carry their best settings: a checkpoint records the inference settings a measurement chose; every command
and export uses them unless an option overrides, and says in one line which it used."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trm_edge.artifact import read_meta
from trm_edge.cli import app
from trm_edge.model.checkpoint import load_checkpoint, record_settings
from trm_edge.settings import INFO_KEY, InferenceSettings, choose
from conftest import SUDOKU9_HARD as HARD

PUZZLE = "....2....513.4....4....7.1...8..2.......3..65.3....2...9.5..6.1...49.5.7........."
RECORDED = InferenceSettings(4, 1, "valid-2", 32, 4, measured_by="a test")


def test_options_override_the_recorded_settings_which_override_the_defaults():
    chosen = choose(RECORDED, halting="act", tries=None)
    assert (chosen.h_cycles, chosen.l_cycles, chosen.halting, chosen.max_steps, chosen.tries) == (4, 1, "act", 32, 4)
    assert chosen.from_model == ("h_cycles", "l_cycles", "max_steps", "tries")
    assert "T=4" in chosen.note() and "4 tries" in chosen.note() and "act" not in chosen.note()
    plain = choose(None)
    assert (plain.halting, plain.tries, plain.max_steps, plain.note()) == ("act", 1, None, "")
    with pytest.raises(ValueError, match="halting must be"):
        InferenceSettings(halting="sometimes")
    with pytest.raises(ValueError, match="tries must be a whole number"):
        InferenceSettings.from_dict({"tries": 2.5})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    ckpt = tmp_path_factory.mktemp("recorded") / "checkpoint.pt"
    shutil.copy(HARD, ckpt)
    record_settings(ckpt, RECORDED)
    return ckpt


def test_solve_runs_at_the_recorded_settings_and_says_so(recorded):
    assert load_checkpoint(recorded).settings == RECORDED
    res = CliRunner().invoke(app, ["solve", str(recorded), PUZZLE, "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["valid"] and out["copy"] >= 1, res.output   # tries and valid halting used
    assert "using the model's recorded settings: T=4, n=1, valid-2 halting, at most 32 steps, 4 tries" in res.output
    res = CliRunner().invoke(app, ["solve", str(recorded), PUZZLE, "--json", "--tries", "1", "--halting", "act"])
    assert json.loads(res.stdout)["copies"] == 1 and "valid-2" not in res.output, res.output


def test_an_export_bakes_the_recorded_depth_and_carries_the_rest(recorded, tmp_path):
    from trm_edge.export import export_checkpoint

    art = export_checkpoint(recorded, "onnx", tmp_path / "art", parity_puzzles=0)
    meta = read_meta(art)
    assert (meta.H_cycles, meta.L_cycles) == (4, 1)
    assert meta.extra[INFO_KEY] == {**RECORDED.to_dict(), "h_cycles": None, "l_cycles": None}
    res = CliRunner().invoke(app, ["solve", str(art), PUZZLE, "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["valid"] and out["copies"] >= 2, res.output
    assert "valid-2 halting, at most 32 steps, 4 tries" in res.output
