"""Bench: every figure comes from a measurement of this run; broken artifacts become failed rows."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trm_edge.bench import BenchRequest, run_bench, write_outputs
from trm_edge.bench.harness import phone_estimates
from trm_edge.bench.flops import step_cost
from trm_edge.cli import app
from trm_edge.export import export_checkpoint
from trm_edge.artifact import ArtifactIntegrityError, read_meta, source_path, write_meta
from trm_edge.model.checkpoint import load_checkpoint
from conftest import SUDOKU9, SUDOKU9_HARD


def test_bench_measures_rows_and_reports_broken_artifact(onnx_artifact, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.json").write_text((onnx_artifact / "metadata.json").read_text())
    (broken / "init_state.f32").write_bytes((onnx_artifact / "init_state.f32").read_bytes())
    (broken / "model.onnx").write_bytes(b"garbage")          # loads metadata fine, model file is corrupt
    with pytest.raises(ArtifactIntegrityError, match="model.onnx does not match"):   # refused before any work
        run_bench(BenchRequest([onnx_artifact, broken], [1], puzzles=12))
    write_meta(broken, read_meta(broken))   # sealed as exported: now a runtime failure, which is a failed row
    result = run_bench(BenchRequest([onnx_artifact, broken], [1], puzzles=12, halting=["fixed", "act"], large_batch=4,
                       repeats=16))
    rows = result["rows"]
    ok = [r for r in rows if r["status"] == "ok"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert {r["runtime"] for r in ok} == {"pytorch", "onnx"}
    assert len(failed) == 2 and all("model.onnx" in r["error"] or "onnx" in r["error"].lower() for r in failed)
    for r in ok:
        m = r["measured"]
        assert m["step"]["n"] >= 8 and m["step"]["p50_ms"] > 0 and m["step"]["p90_ms"] >= m["step"]["p50_ms"]
        assert m["puzzles"] == 12 and 0 <= m["exact_accuracy"] <= 1 and m["puzzles_per_s"] > 0
        assert r["derived"]["achieved_gflops"] > 0 and r["derived"]["peak_gflops"] == result["measured_peak_gflops"]["cpu-1t"]
    fixed = [r for r in ok if r["halting"] == "fixed"]
    act = [r for r in ok if r["halting"] == "act"]
    assert all(r["measured"]["mean_steps"] == 8 for r in fixed)
    assert all(r["measured"]["mean_steps"] <= 8 for r in act)
    # The PyTorch rows run their own device-side copy of the halting loop (no host copies inside the
    # timing): it must halt where the reference loop (host_loop.py) does, with the same answers.
    from trm_edge.data import exact_accuracy
    from trm_edge.datasets import DataSpec, load_split
    from trm_edge.runtime.reference import solve_with_model

    ckpt = load_checkpoint(source_path(onnx_artifact, read_meta(onnx_artifact)))
    data = load_split(DataSpec.from_saved(ckpt.info["data_spec"]), "test").subset(slice(0, 12))
    for halting, rows_ in (("fixed", fixed), ("act", act)):
        ref = solve_with_model(ckpt.build_model(), data.inputs, data.puzzle_identifiers, halting=halting)
        ref_acc = float(exact_accuracy(ref.predictions, data.labels, data.meta.ignore_label_id).mean())
        for r in rows_:
            assert r["measured"]["mean_steps"] == pytest.approx(float(ref.steps.mean())), (halting, r["runtime"])
            assert r["measured"]["exact_accuracy"] == pytest.approx(ref_acc), (halting, r["runtime"])
    # Two runs measure, they do not replay constants.
    again = run_bench(BenchRequest([onnx_artifact], [1], puzzles=12, halting=["fixed"], large_batch=1, repeats=16))
    a = next(r for r in rows if r["runtime"] == "onnx" and r["halting"] == "fixed")["measured"]
    b = next(r for r in again["rows"] if r["runtime"] == "onnx")["measured"]
    assert a["step"]["p50_ms"] != b["step"]["p50_ms"] or a["load_s"] != b["load_s"]
    paths = write_outputs(result, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["rows"][0]["runtime"] == "pytorch"
    assert paths["plot"].stat().st_size > 10_000 and "ESTIMATE" in paths["table"].read_text()


def test_loop_artifact_rows_without_act_are_skipped_not_failed(onnx_artifact, tmp_path):
    """A Loop graph halts by itself: its fixed-halting rows are skipped up front, not run into an error."""
    import shutil

    loop = tmp_path / "loop"
    shutil.copytree(onnx_artifact, loop)
    meta = read_meta(loop)
    meta.recursion = "loop"
    write_meta(loop, meta)
    rows = run_bench(BenchRequest([loop], [1], puzzles=4, halting=["fixed"], large_batch=1, repeats=8))["rows"]
    row = next(r for r in rows if r["source"] == str(loop))
    assert row["status"] == "skipped" and "halts inside its graph" in row["error"]


def test_phone_estimates_follow_counted_flops(trained_checkpoint):
    model = load_checkpoint(trained_checkpoint).build_model()
    cost = step_cost(model)
    assert cost["step_flops"] > 0
    double = dict(cost, step_flops=2 * cost["step_flops"])
    est, est2 = phone_estimates(cost, 8), phone_estimates(double, 8)
    for e, e2 in zip(est, est2):
        assert e["est_cpu_puzzle_ms_fixed"] == pytest.approx(8 * e["est_cpu_step_ms"])
        if e["bound"] == "compute":
            assert e2["est_cpu_step_ms"] == pytest.approx(2 * e["est_cpu_step_ms"])
        assert e["sources"]["cpu"]


def test_bench_cli_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["bench", str(tmp_path), "--threads", "a,b"])
    assert res.exit_code == 2 and "--threads" in res.output
    res = runner.invoke(app, ["bench", str(tmp_path), "--halting", "sometimes"])
    assert res.exit_code == 2 and "--halting" in res.output
    res = runner.invoke(app, ["bench", str(tmp_path)])
    assert res.exit_code == 2 and "is not a trm-edge artifact" in res.output


def test_executorch_one_thread_row_uses_one_core(trained_checkpoint, tmp_path):
    """ExecuTorch runs on its own threadpool: a 1-thread row must not quietly use both cores."""
    pte = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "pte", parity_puzzles=0)
    rows = run_bench(BenchRequest([pte], [1], puzzles=24, halting=["fixed"], large_batch=1, repeats=16))["rows"]
    row = next(r for r in rows if r["runtime"] == "executorch")
    assert row["status"] == "ok", row
    assert row["measured"]["cpu_per_wall"] < 1.3, row["measured"]


def test_memory_column_measures_what_is_allocated_after_the_baseline():
    """The "+MB" column is resident memory now minus the baseline taken after imports. A process-wide peak
    (ru_maxrss) would read 0 here: this process's peak, from earlier tests, is far above 100 MB more."""
    import numpy as np

    from trm_edge.bench.worker import _current_rss_mb

    before = _current_rss_mb()
    block = np.ones(100 * 2 ** 20 // 8)   # 100 MB, every page touched
    grown = _current_rss_mb() - before
    assert 95 <= grown <= 110, grown
    del block
    assert _current_rss_mb() - before < 10   # freed memory leaves the column


def test_large_batch_row_is_labelled_with_the_batch_it_ran(onnx_artifact):
    """With fewer puzzles than --large-batch, the large-batch row runs (and says) batch = puzzles, not 8."""
    source = source_path(onnx_artifact, read_meta(onnx_artifact))
    rows = run_bench(BenchRequest([], [1], puzzles=3, halting=["fixed"], checkpoint=source, large_batch=8, repeats=8,
                     budget_s=2))["rows"]
    assert sorted(r["batch"] for r in rows) == [1, 3]
    assert all(r["measured"]["batch"] == r["batch"] for r in rows)


def test_bench_runs_past_the_trained_steps_when_asked():
    """--max-steps in bench: the committed 9x9 model (N_sup 16) solving with up to 24 steps."""
    ckpt = SUDOKU9
    req = BenchRequest([], [1], puzzles=3, halting=["fixed", "stable-2"], checkpoint=ckpt, large_batch=1, repeats=4,
                       budget_s=1, max_steps=24)
    rows = {r["halting"]: r for r in run_bench(req)["rows"]}
    assert set(rows) == {"fixed (max 24)", "stable-2 (max 24)"}
    assert rows["fixed (max 24)"]["measured"]["mean_steps"] == 24                # all of them, past N_sup
    assert rows["stable-2 (max 24)"]["measured"]["mean_steps"] < 24


def test_percent_of_peak_is_never_above_100_and_names_the_gemm_that_set_the_peak():
    """A row faster than every library GEMM timed in the run shows 100% with a note, never more; the peak is
    the fastest of the installed GEMMs (torch's, ONNX Runtime's) and the run says which."""
    from trm_edge.bench.columns import COLUMNS
    from trm_edge.bench.flops import cpu_gemm_peak
    from trm_edge.bench.harness import BenchRow, _derive

    rate, library = cpu_gemm_peak(1, [(64, 64, 64)])
    assert rate > 0 and library in ("torch matmul (MKL/oneDNN)", "onnxruntime MatMul (MLAS)")
    fast = BenchRow("onnx", "none", "step", 1, 1, "fixed", "cpu", "x",
                    measured={"step": {"p50_ms": 1.0, "p90_ms": 1.0}, "puzzle": {"p50_ms": 8.0, "p90_ms": 8.0},
                              "mean_steps": 8.0, "exact_accuracy": 1.0})
    _derive(fast, {"step_flops": 3e9}, {"cpu-1t": 1000.0}, {})   # 3000 GFLOP/s achieved against a 1000 peak
    assert fast.derived["fraction_of_peak"] == 1.0 and "300% of the measured peak" in fast.derived["peak_note"]
    row = {"status": "ok", "measured": fast.measured, "derived": fast.derived, "batch": 1}
    assert next(c for c in COLUMNS if c.key == "percent_of_peak").cell(row) == "100.0%"


def test_the_peak_is_measured_on_the_steps_shapes_at_batch_1_and_at_the_large_batch():
    """A paper-size step's large batch falls out of cache and runs slower than batch 1: a peak timed only at the
    large batch could put batch-1 rows above 100%, so the peak's shapes hold both."""
    from trm_edge.bench.flops import peak_gemm_shapes, step_gemm_shapes

    model = load_checkpoint(SUDOKU9).build_model()
    shapes = peak_gemm_shapes(model, 64)
    assert set(step_gemm_shapes(model, 1)) | set(step_gemm_shapes(model, 64)) == set(shapes)
    assert {m for m, _, _ in shapes} >= {model.config.total_len, 64 * model.config.total_len}


def test_each_precision_is_measured_against_its_own_peak_and_throughput_rows_get_their_limit():
    """An int8 row's share is of the int8 GEMM peak (not fp32's, which it would overstate); a row whose weights
    are decoded at run time gets no peak; in throughput mode each row's limit is its precision's peak over the
    FLOPs a puzzle costs at its mean steps, in the same unit as x eval."""
    from trm_edge.bench.flops import cpu_precision_peaks
    from trm_edge.bench.harness import BenchRow, _compare_with_yardstick, _derive

    peaks = cpu_precision_peaks(1, [(64, 64, 64)])
    assert set(peaks) == {"fp32", "bf16", "int8"} and all(rate > 0 for rate, _ in peaks.values())
    assert "int" in peaks["int8"][1].lower()   # an integer kernel set the int8 peak
    measured = {"step": {"p50_ms": 10.0, "p90_ms": 10.0}, "mean_steps": 4.0, "exact_accuracy": 1.0,
                "puzzles_per_s": 20.0}
    rows = [BenchRow("pytorch", "fp32", "step", 1, 1, "fixed (official eval)", "cpu", "x", measured=dict(measured),
                     derived={"yardstick": True}),
            BenchRow("onnx", "int8", "step", 1, 1, "act", "cpu", "x", measured=dict(measured)),
            BenchRow("onnx", "int4", "step", 1, 1, "act", "cpu", "x", measured=dict(measured))]
    cost = {"step_flops": 1e9}   # 100 GFLOP/s achieved by every row
    for r in rows:
        _derive(r, cost, {"cpu-1t": 200.0, "cpu-1t-int8": 800.0}, {"cpu-1t-int8": "torch._int_mm (oneDNN)"})
    fp32, int8, int4 = rows
    assert int8.derived["peak_set_by"] == "torch._int_mm (oneDNN)"   # the kernel that set the row's yardstick
    assert fp32.derived["fraction_of_peak"] == 0.5 and int8.derived["fraction_of_peak"] == 0.125
    assert int8.derived["peak_precision"] == "int8" and "fraction_of_peak" not in int4.derived
    _compare_with_yardstick(rows, cost)
    # int8 at its peak: 800e9 / (1e9 x 4 steps) = 200 puzzles/s = 10x the official evaluation's 20
    assert int8.derived["limit_x_official_eval"] == pytest.approx(10.0)
    assert "limit_x_official_eval" not in int4.derived


def test_throughput_mode_streams_every_puzzle_and_compares_with_the_official_evaluation(onnx_artifact, tmp_path):
    """--throughput: each row solves the whole file in one streamed call; the yardstick (PyTorch fp32, all N_sup
    steps) runs in the same run and each row says how many times its puzzles/s that is."""
    from trm_edge.bench.report import measured_table

    req = BenchRequest([onnx_artifact], [1], puzzles=12, halting=["stable-2"], large_batch=4, repeats=8, budget_s=2,
                       throughput=True, max_steps=12)
    result = run_bench(req)
    rows = result["rows"]
    yard = rows[0]
    assert yard["halting"] == "fixed (official eval)" and yard["derived"]["yardstick"] and yard["batch"] == 4
    assert yard["measured"]["mean_steps"] == 8          # the trained N_sup, whatever --max-steps says
    others = rows[1:]
    assert {r["runtime"] for r in others} == {"pytorch", "onnx"} and all(r["status"] == "ok" for r in others)
    for r in rows:
        m = r["measured"]
        assert m["throughput"] and m["puzzles"] == 12 and "puzzle" not in m
        assert r["derived"]["x_official_eval"] == pytest.approx(m["puzzles_per_s"] / yard["measured"]["puzzles_per_s"])
    assert yard["derived"]["x_official_eval"] == 1.0
    assert all(r["measured"]["mean_steps"] < 12 for r in others)   # stable-2 halts; the rows ran past nothing
    table = measured_table(result)
    assert "x eval" in table and "1.0" in table and "x eval: puzzles/s over the official evaluation's" in table
    assert "x eval" not in measured_table({"rows": [{**r, "derived": {}} for r in rows]})
    assert max(map(len, table.splitlines())) <= 100, table   # a terminal's width, the artifact named on its row
    assert onnx_artifact.name in table
    paths = write_outputs(result, tmp_path)
    assert json.loads(paths["json"].read_text())["rows"][1]["values"]["x_official_eval"] > 0


def test_throughput_rows_with_tries_report_what_the_rules_accepted(tmp_path):
    """bench --throughput --tries K: each row tries views of a puzzle until the rules accept one, and says how many
    answers were verified and that none of them is wrong."""
    hard = SUDOKU9_HARD
    art = export_checkpoint(hard, "onnx", tmp_path / "art", parity_puzzles=0)
    res = CliRunner().invoke(app, ["bench", str(art), "--checkpoint", str(hard), "--throughput", "--tries", "4",
                                   "--halting", "valid-2", "--puzzles", "12", "--threads", "1", "--budget-s", "1",
                                   "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "b" / "bench.json").read_text())["rows"]
    tried = [r for r in rows if "4 tries" in r["halting"]]
    assert len(tried) == 2 and all(r["status"] == "ok" for r in tried)   # PyTorch and the artifact
    for r in tried:
        assert r["measured"]["tries"] == 4 and r["measured"]["verified_wrong"] == 0
        assert r["measured"]["verified"] >= 0.5 and r["measured"]["exact_accuracy"] >= r["measured"]["verified"]
    res = CliRunner().invoke(app, ["bench", str(art), "--tries", "4", "--threads", "1", "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and "--tries is measured in --throughput mode" in res.output


def test_time_left_predicts_each_row_by_the_same_row_of_the_last_pass(monkeypatch):
    """Passes of a fast PyTorch row (6 s) and a slow artifact row (60 s): once a pass is timed, the time left is
    what those rows took (2.1 min before row 4 of 6), not the mean of every row so far (1.2 min)."""
    from trm_edge.bench import harness

    clock, said = [0.0], []
    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock[0])
    log = harness._eta_log(6, 2, said.append)
    for took in (6, 60, 6, 60, 6, 60):
        log("bench row")
        clock[0] += took
    assert said[3] == "row 4/6, ~2.1 min left: bench row" and said[5] == "row 6/6, ~1.0 min left: bench row"


def test_bench_takes_a_difficulty_band_directly():
    """--band: the rows solve generated puzzles of that band (as evaluate does), no puzzle file needed; a band
    with --data-path, or a band that is not one, is refused before any row runs."""
    from trm_edge.train.evaluate_job import EvaluateJob, run_evaluate

    req = BenchRequest([], [1], puzzles=6, halting=["fixed"], checkpoint=SUDOKU9, large_batch=1, repeats=2,
                       budget_s=1, band="minimal").checked()
    result = run_bench(req)
    row = result["rows"][0]
    alone = run_evaluate(EvaluateJob(SUDOKU9, 6, "fixed", band="minimal", max_steps=16, tries=1, device="cpu"))
    assert result["band"] == "minimal" and row["measured"]["puzzles"] == 6
    assert row["measured"]["exact_accuracy"] == alone["exact_accuracy"]
    for bad, said in ((["--band", "easy"], "a band is 'minimal' or a givens range"),
                      (["--band", "minimal", "--data-path", "x.csv"], "not with --data-path")):
        res = CliRunner().invoke(app, ["bench", "--checkpoint", str(SUDOKU9), *bad])
        assert res.exit_code == 2 and said in res.output, res.output


def test_an_int8_artifact_whose_math_stays_fp32_is_measured_against_the_fp32_peak(trained_checkpoint, tmp_path):
    """ONNX's default int8 keeps int8 weights and dequantizes them at load: its GEMMs are fp32 ones, so its share
    is of the fp32 peak; the dynamic scheme's MatMulInteger is measured against the int8 peak."""
    from trm_edge import targets
    from trm_edge.bench.harness import BenchRow, _derive
    from trm_edge.export import export_checkpoint

    gemm = targets.get("onnx").gemm_precision
    said = {}
    for scheme in ("weights", "dynamic"):
        folder = export_checkpoint(trained_checkpoint, "onnx", tmp_path / scheme, quantize="int8", parity_puzzles=0,
                                   options={"int8-scheme": scheme})
        row = BenchRow("onnx", "int8", "step", 1, 1, "act", "cpu", str(folder),
                       measured={"step": {"p50_ms": 10.0}, "mean_steps": 4.0},
                       computes_in=gemm(read_meta(folder).extra))
        _derive(row, {"step_flops": 1e9}, {"cpu-1t": 200.0, "cpu-1t-int8": 800.0}, {})
        said[scheme] = (row.derived["peak_precision"], row.derived["fraction_of_peak"])
    assert said == {"weights": ("fp32", 0.5), "dynamic": ("int8", 0.125)}
