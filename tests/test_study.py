"""Studies: a question written as data, run through the library's export and parity check into results files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from trm_edge.cli import app


def _study(path, checkpoint, extra: str = "") -> None:
    path.write_text(f'title = "t"\nquestion = "Does the tiny model export?"\nmodels = ["{checkpoint}"]\n'
                    f'measure = "parity"\nparity_puzzles = [4]\n{extra}\n'
                    '[[variants]]\ntarget = "onnx"\n\n[[variants]]\ntarget = "onnx"\nprecision = "int4"\n')


def _rows_of(study: str, checkpoint, tmp_path) -> list[dict]:
    """The rows of a study of `checkpoint` whose measure and cells `study` writes, run into tmp_path/r."""
    (tmp_path / "s.toml").write_text(f'title = "t"\nquestion = "Q?"\nmodels = ["{checkpoint}"]\n{study}')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    (tmp_path / "said.txt").write_text(res.output)
    return json.loads((tmp_path / "r" / "results.json").read_text())["rows"]


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


def test_a_parity_study_runs_each_band_and_a_calibrated_variant(trained_checkpoint, tmp_path):
    rows = _rows_of('measure = "parity"\nparity_puzzles = [4]\nparity_band = ["minimal", "6-8"]\n\n'
                    '[[variants]]\ntarget = "onnx"\nprecision = "int8"\ncalibration = 16\n',
                    trained_checkpoint, tmp_path)
    assert [(r["precision"], r["band"], r["puzzles"]) for r in rows] == [("int8-static", "minimal", 4),
                                                                        ("int8-static", "6-8", 4)]
    table = (tmp_path / "r" / "table.md").read_text()
    assert "| 4 minimal |" in table and "| 4 with 6-8 givens |" in table


def test_a_sizes_only_study_exports_without_a_parity_check_and_compares_each_size_with_int8(trained_checkpoint,
                                                                                           tmp_path):
    rows = _rows_of('measure = "parity"\nparity_puzzles = [0]\n\n[[variants]]\ntarget = "onnx"\nprecision = "int8"\n'
                    '\n[[variants]]\ntarget = "onnx"\nprecision = "fp16"\n', trained_checkpoint, tmp_path)
    assert [(r["precision"], r["status"]) for r in rows] == [("int8", "size only"), ("fp16", "size only")]
    assert all("exact_accuracy_artifact" not in r for r in rows)
    ratio = rows[1]["size_bytes"] / rows[0]["size_bytes"]
    assert ratio > 1   # fp16 weights are twice int8's
    table = (tmp_path / "r" / "table.md").read_text()
    assert "| 1.00 | - | size only |" in table and f"| {ratio:.2f} | - | size only |" in table
    assert "size only (no parity check)" in (tmp_path / "said.txt").read_text()


def test_a_study_with_an_unknown_key_is_refused_in_one_line(trained_checkpoint, tmp_path):
    _study(tmp_path / "bad.toml", trained_checkpoint, extra='halting = "act"')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "unknown keys halting (a parity study takes" in res.output, res.output
    assert not (tmp_path / "results").exists()


def test_a_study_of_a_missing_model_is_refused_before_any_work(tmp_path):
    _study(tmp_path / "gone.toml", tmp_path / "gone" / "checkpoint.pt")
    res = CliRunner().invoke(app, ["study", str(tmp_path / "gone.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "no checkpoint at" in res.output, res.output
    assert not (tmp_path / "r").exists()


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
    from trm_edge.bench.studies.base import UNTRAINED

    pages = (REPO / "docs" / "gen_pages.py").read_text()
    for path in sorted((REPO / "studies").glob("*.toml")):
        study = Study.load(path)
        assert all((REPO / m).is_file() or m.startswith(UNTRAINED) for m in study.models), path
        assert f"trm-edge study {study.name}\"" in pages, f"{path.name} has no results page"


def test_a_tries_study_reads_puzzle_files_and_runs_each_export(trained_checkpoint, tmp_path, monkeypatch):
    """The tries measure: a puzzle file (a count line and a comment passed over) and the model's split, solved by
    PyTorch and by an ONNX export made for the study; a missing list is a row that says so, not a lost study; the
    best PyTorch setting on the split is recorded in the checkpoint as its settings."""
    from trm_edge.datasets import DataSpec
    from trm_edge.datasets.splits import puzzle_texts
    from trm_edge.model.checkpoint import load_checkpoint

    checkpoint = tmp_path / "model" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    shutil.copy(trained_checkpoint, checkpoint)
    spec = DataSpec.from_saved(load_checkpoint(checkpoint).info["data_spec"])
    (tmp_path / "list.txt").write_text("12\n" + "\n".join(puzzle_texts(spec, 12)) + "\n// from the test split\n")
    (tmp_path / "t.toml").write_text(
        f'title = "t"\nquestion = "Do tries help?"\nmodels = ["{checkpoint}"]\nmeasure = "tries"\n'
        'sources = [{file = "list.txt"}, {split = "test"}, {file = "absent.txt"}]\npuzzles = 30\n'
        'halting = ["valid-2"]\nmax_steps = [4]\ntries = [1, 2]\nrecord_on = ["held-out split"]\n\n[[runs]]\n\n'
        '[[runs]]\ntarget = "onnx"\ntries = [2]\n')
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["study", "t.toml", "--out", "r"])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["rows"]
    got = {(r["runtime"], r["source"], r["tries"]): r for r in rows}
    assert len(rows) == 9 and got["pytorch", "list.txt", 1]["puzzles"] == 12
    assert got["pytorch", "held-out split", 2]["puzzles"] == 30
    assert got["pytorch", "held-out split", 2]["accuracy"] >= got["pytorch", "held-out split", 1]["accuracy"]
    assert all(r["verified_wrong"] == 0 for r in rows if r["status"] == "ok")
    assert got["onnx step fp32", "list.txt", 2]["status"] == "ok"
    absent = got["pytorch", "absent.txt", 1]
    assert absent["status"] == "skipped" and "no puzzle file at absent.txt" in absent["reason"]
    table = (tmp_path / "r" / "table.md").read_text()
    assert "| absent.txt | pytorch | valid-2 | 4 | 1 | skipped: no puzzle file" in table
    split = [got["pytorch", "held-out split", k] for k in (1, 2)]
    best = max(split, key=lambda r: (r["accuracy"], -r["mean_steps"]))
    settings = load_checkpoint(checkpoint).settings
    assert (settings.halting, settings.max_steps, settings.tries) == ("valid-2", 4, best["tries"])
    assert settings.measured_by == str(Path("r") / "results.json") and f"Recorded in `{checkpoint}`" in table


def test_a_bench_study_benches_each_export_beside_pytorch_and_the_official_evaluation(trained_checkpoint, tmp_path):
    """The bench measure: the study's export and PyTorch through `trm-edge bench --throughput`'s own harness, the
    official evaluation measured in the same run (x 1.0), one row each, in one table."""
    measured = _rows_of('measure = "bench"\npuzzles = 20\nthreads = [1]\nhalting = ["stable-2"]\nmax_steps = [4]\n'
                        'throughput = true\n\n[[variants]]\ntarget = "onnx"\nbatch = 2\n', trained_checkpoint, tmp_path)
    rows = {(r["runtime"], r["batch"], r["halting"]): r for r in measured}
    official = [r for r in measured if "official" in r["halting"]]
    assert len(official) == 1 and official[0]["x_official_eval"] == 1.0
    onnx = rows["onnx", 2, "stable-2 (max 4)"]
    assert onnx["status"] == "ok" and onnx["puzzles_per_s"] > 0 and onnx["mean_steps"] <= 4
    table = (tmp_path / "r" / "table.md").read_text()
    assert "| onnx | step | fp32 | 2 | 1 | stable-2 (max 4) |" in table
    assert onnx["peak_precision"] == "fp32" and onnx["peak_set_by"] in table   # the share's yardstick, named


def test_a_study_of_an_untrained_preset_benches_its_pytorch_rows(tmp_path):
    """`untrained:PRESET` builds the preset's model for the study (paper-size speed without a committed file); a
    bench study without exports measures PyTorch alone."""
    (tmp_path / "s.toml").write_text('title = "t"\nquestion = "Q?"\nmodels = ["untrained:sudoku4-tiny"]\n'
                                     'measure = "bench"\npuzzles = 2\nhalting = ["fixed"]\nlarge_batch = 2\n'
                                     'repeats = 2\nbudget_s = 1.0\n')
    res = CliRunner().invoke(app, ["study", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["rows"]
    assert [(r["model"], r["runtime"], r["batch"], r["status"]) for r in rows] == [
        ("untrained-sudoku4-tiny", "pytorch", 1, "ok"), ("untrained-sudoku4-tiny", "pytorch", 2, "ok")]
    (tmp_path / "bad.toml").write_text((tmp_path / "s.toml").read_text().replace("sudoku4-tiny", "sudoku5"))
    res = CliRunner().invoke(app, ["study", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "untrained:sudoku5: no such preset (presets: sudoku4-tiny" in res.output


def test_a_latency_bench_study_reports_each_thread_count_and_the_step_time(trained_checkpoint, tmp_path):
    measured = _rows_of('measure = "bench"\npuzzles = 4\nthreads = [1, 2]\nhalting = ["fixed"]\n\n'
                        '[[variants]]\ntarget = "onnx"\n', trained_checkpoint, tmp_path)
    said = (tmp_path / "said.txt").read_text()
    assert "    row 6/6, ~" in said, said   # a long bench cell says which row it is on, and how long is left
    onnx = {r["threads"]: r for r in measured if r["runtime"] == "onnx"}
    assert sorted(onnx) == [1, 2] and all(r["status"] == "ok" and r["step_ms"] > 0 for r in onnx.values())
    table = (tmp_path / "r" / "table.md").read_text()
    assert f"| onnx | step | fp32 | 1 | 2 | fixed | 1.000 | 8.0 | {onnx[2]['step_ms']:.2f} |" in table, table
