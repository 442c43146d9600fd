"""Studies: a question written as data, run through the library's export and parity check into results files."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from trm_edge.cli import app


def _study(path, checkpoint, extra: str = "") -> None:
    path.write_text(f'title = "t"\nquestion = "Does the tiny model export?"\nmodels = ["{checkpoint}"]\n'
                    f'parity_puzzles = [4]\n{extra}\n[[variants]]\ntarget = "onnx"\n\n[[variants]]\ntarget = "onnx"\n'
                    'precision = "int4"\n')


def test_a_study_writes_its_rows_and_table(trained_checkpoint, tmp_path):
    _study(tmp_path / "tiny.toml", trained_checkpoint)
    res = CliRunner().invoke(app, ["study", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["rows"]
    assert [(r["target"], r["precision"], r["puzzles"]) for r in rows] == [("onnx", "fp32", 4), ("onnx", "int4", 4)]
    assert rows[0]["status"] == "ok" and rows[0]["teacher_forced"]["max_rel_logit_diff"] < 1e-3
    table = (tmp_path / "r" / "table.md").read_text()
    assert table.startswith("Does the tiny model export?") and table.count(f"| {trained_checkpoint.parent.name} | onnx | step |") == 2


def test_a_study_with_an_unknown_key_is_refused_in_one_line(trained_checkpoint, tmp_path):
    _study(tmp_path / "bad.toml", trained_checkpoint, extra='halting = "act"')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "unknown keys halting" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "results").exists()
