"""Studies: a question written as data, run through the library's export and parity check into results files."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from trm_edge.cli import app


def _study(path, checkpoint, extra: str = "") -> None:
    path.write_text(f'title = "t"\nquestion = "Does the tiny model export?"\nmodels = ["{checkpoint}"]\n'
                    f'measure = "parity"\nparity_puzzles = [4]\n{extra}\n'
                    '[[variants]]\ntarget = "onnx"\n\n[[variants]]\ntarget = "onnx"\nprecision = "int4"\n')


def test_a_study_writes_its_rows_and_table(trained_checkpoint, tmp_path):
    _study(tmp_path / "tiny.toml", trained_checkpoint)
    res = CliRunner().invoke(app, ["study", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["rows"]
    assert [(r["target"], r["precision"], r["puzzles"]) for r in rows] == [("onnx", "fp32", 4), ("onnx", "int4", 4)]
    assert rows[0]["status"] == "ok" and rows[0]["teacher_forced"]["max_rel_logit_diff"] < 1e-3
    table = (tmp_path / "r" / "table.md").read_text()
    model = trained_checkpoint.parent.name
    assert table.startswith("Does the tiny model export?") and table.count(f"| {model} | onnx | step |") == 2


def test_a_study_with_an_unknown_key_is_refused_in_one_line(trained_checkpoint, tmp_path):
    _study(tmp_path / "bad.toml", trained_checkpoint, extra='halting = "act"')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "unknown keys halting (a parity study takes" in res.output, res.output
    assert not (tmp_path / "results").exists()


def test_a_solve_study_measures_each_halting_rule_through_evaluate(trained_checkpoint, tmp_path):
    """The solve measure: the model's test split under two halting rules, one row each, as evaluate reports them."""
    from trm_edge.train.evaluate_job import EvaluateJob, run_evaluate

    (tmp_path / "s.toml").write_text(f'title = "t"\nquestion = "Which rule stops sooner?"\n'
                                     f'models = ["{trained_checkpoint}"]\nmeasure = "solve"\nbands = [""]\n'
                                     'puzzles = 30\nhalting = ["fixed", "valid-2"]\nmax_steps = [4]\n')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["rows"]
    assert [r["halting"] for r in rows] == ["fixed", "valid-2"]
    assert rows[0]["mean_steps"] == 4 and rows[1]["mean_steps"] < 4 and rows[1]["verified_wrong"] == 0
    alone = run_evaluate(EvaluateJob(trained_checkpoint, 30, "valid-2", max_steps=4, tries=1, device="cpu"))
    assert rows[1]["exact_accuracy"] == alone["exact_accuracy"]
    assert "| valid-2 | 4 | 1 | 30 |" in (tmp_path / "r" / "table.md").read_text()


def test_every_committed_study_loads_and_names_committed_models():
    """A study under studies/ is runnable as written: known keys, models that are in the repository, and a
    results page that shows it."""
    from conftest import REPO

    from trm_edge.bench.studies import Study

    pages = (REPO / "docs" / "gen_pages.py").read_text()
    for path in sorted((REPO / "studies").glob("*.toml")):
        study = Study.load(path)
        assert all((REPO / m).is_file() for m in study.models), path
        assert f"trm-edge study {study.name}\"" in pages, f"{path.name} has no results page"
