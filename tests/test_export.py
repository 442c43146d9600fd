"""Exports: one real export per target in the default suite (slow variants marked), parity, metadata, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.datasets import DataSpec, load_split
from trm_edge.export import ExportError, export_checkpoint
from trm_edge.artifact import read_meta
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.runtime.reference import solve_with_model



def _parity(folder):
    return json.loads((folder / "parity.json").read_text())


def _check_parity(folder, fp32: bool):
    p = _parity(folder)
    assert p["status"] == "ok", p
    assert p["exact_accuracy_pytorch"] >= 0.9          # the trained preset really solves puzzles
    if fp32:
        assert p["max_abs_logit_diff"] < 1e-3 and p["cell_agreement"] == 1.0
    else:
        assert p["within_budget"] is True and p["accuracy_drop"] <= 0.01
    return p


def test_onnx_step_fp32_metadata_and_runtime_loop(trained_checkpoint, tmp_path):
    folder = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "a", parity_puzzles=60, options={"ort": True})
    _check_parity(folder, fp32=True)
    meta = read_meta(folder)
    usability = meta.extra["ort_mobile_usability"]
    for ep in ("NNAPI", "CoreML NeuralNetwork", "CoreML MLProgram"):
        assert 0 < usability[ep]["supported_nodes"] <= usability[ep]["nodes"] and usability[ep]["verdict"] in (
            "YES", "MAYBE", "NO")
    # The .ort file is the same model in ORT's mobile format: same outputs for one step.
    import onnxruntime as ort

    assert meta.extra["ort_file"] == "model.ort" and not list(folder.glob("*.config"))
    feeds = dict(zip(["inputs", "puzzle_identifiers", "y", "z"], [np.ones((1, 16), np.int32), np.zeros(1, np.int32),
                                                                   *load_runner(folder).initial_state()]))
    outs = [ort.InferenceSession(str(folder / f), providers=["CPUExecutionProvider"]).run(None, feeds)
            for f in ("model.onnx", "model.ort")]
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert meta.recursion == "step" and meta.task == "sudoku" and meta.vocab_size == 6 and meta.seq_len == 16
    assert [t.name for t in meta.inputs] == ["inputs", "puzzle_identifiers", "y", "z"]
    assert meta.inputs[0].dtype == "int32" and meta.state_shape == [1, 17, 64]
    assert len(meta.source_sha256) == 64 and "onnxruntime" in meta.tool_versions
    assert (folder / "init_state.f32").stat().st_size == 2 * 64 * 4
    # The host loop with ACT halting gives the same answers and step counts as PyTorch.
    ckpt = load_checkpoint(trained_checkpoint)
    data = load_split(DataSpec.from_saved(ckpt.info["data_spec"]), "test").subset(slice(0, 20))
    art = load_runner(folder).solve(data.inputs, data.puzzle_identifiers, halting="act")
    ref = solve_with_model(ckpt.build_model(), data.inputs, data.puzzle_identifiers, halting="act")
    assert np.array_equal(art.steps, ref.steps) and np.array_equal(art.predictions, ref.predictions)
    assert art.steps.max() <= meta.halt_max_steps and art.steps.mean() < meta.halt_max_steps


def test_onnx_int8_dynamic_within_budget_and_smaller(trained_checkpoint, tmp_path):
    fp32 = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "f", parity_puzzles=0)
    int8 = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "q", quantize="int8", parity_puzzles=200)
    _check_parity(int8, fp32=False)
    assert (int8 / "model.onnx").stat().st_size < 0.7 * (fp32 / "model.onnx").stat().st_size


def test_executorch_step_fp32_xnnpack(trained_checkpoint, tmp_path):
    folder = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "et", parity_puzzles=60)
    _check_parity(folder, fp32=True)
    delegation = read_meta(folder).extra["delegation"]
    assert delegation["delegated_nodes"] > 0 and delegation["per_op"]["aten_linear_default"]["portable"] == 0
    # RMSNorm's mean and SwiGLU's chunk are rewritten so the recursion stays in one delegate (the input
    # embedding lookup is the other piece), instead of ~50 pieces cut at each norm.
    assert delegation["delegated_subgraphs"] <= 2, delegation
    assert all(delegation["per_op"].get(op, {}).get("portable", 0) == 0
               for op in ("aten_mean_dim", "aten_split_with_sizes_copy_default", "aten_squeeze_copy_dims"))


def _attention_checkpoint(trained_checkpoint, tmp_path):
    """The default preset's data and sizes with attention and RoPE instead of the token-mixing MLP (untrained)."""
    import dataclasses

    import torch
    from trm_edge.model import TRM
    from trm_edge.model.checkpoint import save_checkpoint

    ck = load_checkpoint(trained_checkpoint)
    config = dataclasses.replace(ck.config, mlp_t=False, num_heads=2, pos_encodings="rope")
    torch.manual_seed(0)
    path = tmp_path / "att.pt"
    save_checkpoint(path, TRM(config), ck.data_meta, info={"data_spec": ck.info["data_spec"]})
    return path


def test_int8_scheme_that_keeps_mlp_t_refuses_a_model_without_one(trained_checkpoint, tmp_path):
    from typer.testing import CliRunner
    from trm_edge.cli import app

    attention = _attention_checkpoint(trained_checkpoint, tmp_path)
    result = CliRunner().invoke(app, ["export", str(attention), "--target", "onnx", "--quantize", "int8",
                                      "--int8-scheme", "dynamic-keep-mlp-t", "--out", str(tmp_path / "k")])
    assert result.exit_code == 2 and "has none" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "k").exists()


def test_executorch_attention_step_is_one_delegate(trained_checkpoint, tmp_path):
    """The attention variant (RoPE, fused qkv): SDPA's decomposition (where/any/logical_not), the qkv split,
    rotate_half's cat and 4-D matmul broadcasts used to cut the step into 38 pieces with ~300 portable ops
    (128 pieces at paper size). Exported with the plain attention path, it lowers like the MLP variant."""
    attention = _attention_checkpoint(trained_checkpoint, tmp_path)
    folder = export_checkpoint(attention, "executorch", tmp_path / "et", parity_puzzles=20)
    delegation = read_meta(folder).extra["delegation"]
    portable = {op for op, n in delegation["per_op"].items() if n["portable"] and op not in ("Total", "getitem")}
    assert delegation["delegated_subgraphs"] <= 2, delegation
    assert portable <= {"aten_embedding_default", "aten_index_tensor", "aten_select_copy_int",
                        "dim_order_ops__to_dim_order_copy_default"}, portable   # the input lookup only
    note = next(n for n in read_meta(folder).extra["notes"] if n.startswith("delegation"))
    assert f"in {delegation['delegated_subgraphs']} subgraph(s)" in note
    cfg = load_checkpoint(attention).config   # the step's packed weight copies are announced, with the way out
    assert any(f"calls the net {cfg.H_cycles * (cfg.L_cycles + 1)} times" in n and "--recursion net" in n
               for n in read_meta(folder).extra["notes"])
    assert _parity(folder)["cell_agreement"] >= 0.999   # the plain path computes the same attention


@pytest.mark.parametrize("target", ["executorch", "tflite"])
def test_net_program_runs_the_step_on_the_host(trained_checkpoint, tmp_path, target):
    """--recursion net: one program with embed / net / heads methods (signatures for TFLite); the host's step
    over them gives the PyTorch step's numbers (attention + RoPE model), and the solve matches PyTorch."""
    import torch

    attention = _attention_checkpoint(trained_checkpoint, tmp_path)
    folder = export_checkpoint(attention, target, tmp_path / "net", recursion="net", parity_puzzles=20)
    meta = read_meta(folder)
    assert list(meta.extra["methods"]) == ["embed", "net", "heads"]
    assert not any("calls the net" in n for n in meta.extra["notes"])   # no per-call copies to warn about
    if target == "executorch":
        assert meta.extra["delegation"]["delegated_subgraphs"] <= 3   # at most one delegate per method
    ckpt = load_checkpoint(attention)
    model = ckpt.build_model().eval()
    data = load_split(DataSpec.from_saved(ckpt.info["data_spec"]), "test").subset(slice(0, 1))
    runner = load_runner(folder)
    y, z = runner.initial_state()
    got = runner.step(data.inputs, data.puzzle_identifiers, y, z)
    with torch.no_grad():
        want = model.infer_step(torch.from_numpy(data.inputs).int(), torch.from_numpy(data.puzzle_identifiers).int(),
                                torch.from_numpy(y), torch.from_numpy(z))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), atol=1e-4)
    assert _parity(folder)["cell_agreement"] >= 0.999


def test_fp16_lowering_leaves_the_parity_reference_in_fp32(trained_checkpoint):
    """The fp16 ExecuTorch graph is a copy: the model the parity report compares against stays fp32."""
    import torch
    from trm_edge.export.executorch_target import _HalfWrapper
    from trm_edge.export.graphs import StepGraph

    model = load_checkpoint(trained_checkpoint).build_model().float().eval()
    half = _HalfWrapper(StepGraph(model))
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.dtype for p in half.parameters()} == {torch.float16}


def test_net_recursion_is_refused_where_it_does_not_apply(trained_checkpoint, tmp_path):
    with pytest.raises(ExportError, match="offered by executorch, tflite"):
        export_checkpoint(trained_checkpoint, "onnx", tmp_path / "a", recursion="net")
    with pytest.raises(ExportError, match="XNNPACK delegate"):
        export_checkpoint(trained_checkpoint, "executorch", tmp_path / "b", recursion="net",
                          options={"delegate": "coreml"})
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_executorch_coreml_delegate(trained_checkpoint, tmp_path, quantize):
    import sys

    folder = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "cm", quantize=quantize, options={"delegate": "coreml"},
                               parity_puzzles=20)
    meta = read_meta(folder)
    assert "CoreMLBackend" in meta.extra["backends"] and meta.extra["delegate"] == "coreml"
    assert meta.extra["delegation"]["per_op"]["aten_linear_default"]["portable"] == 0
    p = _parity(folder)
    from trm_edge.export.android import copy_to_android_assets

    with pytest.raises(ValueError, match="Android cannot run"):
        copy_to_android_assets(folder, tmp_path / "assets")
    if sys.platform != "darwin":   # the pip ExecuTorch runtime on Linux has no Core ML backend
        assert p["status"] == "skipped" and "CoreMLBackend" in p["reason"], p
        with pytest.raises(Exception, match="Core ML runs on iOS/macOS"):
            load_runner(folder)


@pytest.mark.slow
def test_executorch_int8_and_fp16_programs_are_smaller_than_fp32(trained_checkpoint, tmp_path):
    sizes = {}
    for q in ("none", "int8", "fp16"):
        folder = export_checkpoint(trained_checkpoint, "executorch", tmp_path / q, quantize=q, parity_puzzles=50)
        p = _parity(folder)
        assert p["status"] == "ok" and p["cell_agreement"] >= 0.99, p
        assert read_meta(folder).extra["delegation"]["delegated_subgraphs"] <= 2
        sizes[q] = (folder / "model.pte").stat().st_size
    # Shared weights are stored once, and fp32 originals of quantized weights are not kept.
    assert sizes["int8"] < 0.6 * sizes["none"] and sizes["fp16"] < 0.75 * sizes["none"], sizes


def test_coreml_step_int8_converts_and_skips_prediction_off_macos(trained_checkpoint, tmp_path):
    import sys

    folder = export_checkpoint(trained_checkpoint, "coreml", tmp_path / "cm", quantize="int8", parity_puzzles=20)
    assert (folder / "model.mlpackage" / "Manifest.json").is_file()
    p = _parity(folder)
    if sys.platform != "darwin":
        assert p["status"] == "skipped" and "macOS" in p["reason"]
        # The weights read back out of the package (int8, decompressed) are really compressed, all found,
        # and keep the accuracy.
        rb = p["weights_readback"]
        assert rb["complete"] and 0 < rb["max_abs_logit_diff"] and rb["within_budget"] is True, rb
    else:
        assert p["status"] == "ok"


def test_tflite_step_int8_runs_in_litert(trained_checkpoint, tmp_path):
    folder = export_checkpoint(trained_checkpoint, "tflite", tmp_path / "tf", quantize="int8", parity_puzzles=200)
    _check_parity(folder, fp32=False)
    assert read_meta(folder).extra["tflite_signature"]["inputs"]


@pytest.mark.parametrize("target, recursion, quantize, calibration", [
    ("onnx", "unrolled", "none", 0),
    ("onnx", "step", "int8", 64),
    ("onnx", "step", "fp16", 0),
    ("executorch", "step", "int8", 0),
    ("executorch", "step", "int8", 64),
    ("executorch", "unrolled", "none", 0),
    ("tflite", "step", "none", 0),
    ("tflite", "unrolled", "none", 0),
    ("coreml", "unrolled", "fp16", 0),
    ("coreml", "step", "palette4", 0),
    ("coreml", "stateful", "int8", 0),
])
@pytest.mark.slow
def test_slow_export_matrix(trained_checkpoint, tmp_path, target, recursion, quantize, calibration):
    folder = export_checkpoint(trained_checkpoint, target, tmp_path / "x", recursion=recursion, quantize=quantize,
                               calibration=calibration, parity_puzzles=50)
    p = _parity(folder)
    if target == "coreml":
        assert p["status"] in ("ok", "skipped")
        if p["status"] == "skipped":
            assert p["weights_readback"]["complete"] and p["weights_readback"]["cell_agreement"] >= 0.99
        return
    assert p["status"] == "ok", p
    assert p["cell_agreement"] >= 0.99
    if quantize == "none":
        assert p["max_abs_logit_diff"] < 1e-3


def test_bad_requests_fail_before_writing(trained_checkpoint, tmp_path):
    out = tmp_path / "nothing"
    with pytest.raises(ExportError, match="unknown target"):
        export_checkpoint(trained_checkpoint, "tensorrt", out)
    with pytest.raises(ExportError, match="not loop"):
        export_checkpoint(trained_checkpoint, "executorch", out, recursion="loop")
    with pytest.raises(ExportError, match="needs --batch 1"):
        export_checkpoint(trained_checkpoint, "onnx", out, recursion="loop", batch=2)
    with pytest.raises(ExportError, match="does not apply to --target onnx"):
        export_checkpoint(trained_checkpoint, "onnx", out, options={"delegate": "coreml"})
    with pytest.raises(ExportError, match="weight-only"):
        export_checkpoint(trained_checkpoint, "executorch", out, quantize="int8", calibration=8, options={"delegate": "coreml"})
    with pytest.raises(ExportError, match="stateful is offered by coreml"):
        export_checkpoint(trained_checkpoint, "onnx", out, recursion="stateful")
    with pytest.raises(ExportError, match="onnx does not support --quantize palette4; it offers fp32, fp16"):
        export_checkpoint(trained_checkpoint, "onnx", out, quantize="palette4")
    with pytest.raises(ExportError, match="--ort"):
        export_checkpoint(trained_checkpoint, "tflite", out, options={"ort": True})
    with pytest.raises(ExportError, match="--calibration only applies"):
        export_checkpoint(trained_checkpoint, "onnx", out, quantize="fp16", calibration=8)
    with pytest.raises(ExportError, match="coreml does not support --quantize int8-static"):
        export_checkpoint(trained_checkpoint, "coreml", out, quantize="int8", calibration=8)
    assert not out.exists()
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError, match="not a trm-edge artifact"):
        export_checkpoint(trained_checkpoint, "onnx", tmp_path / "exists")


def test_failed_export_leaves_no_partial_folder(trained_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path.parent / f"{tmp_path.name}-empty-cache"))   # no litert env
    with pytest.raises(RuntimeError, match="litert-torch"):
        export_checkpoint(trained_checkpoint, "tflite", tmp_path / "tf")
    assert list(tmp_path.iterdir()) == []


def test_cli_export_and_android_assets(trained_checkpoint, tmp_path):
    runner = CliRunner()
    assets = tmp_path / "assets"
    res = runner.invoke(app, ["export", str(trained_checkpoint), "--target", "onnx", "--out", str(tmp_path / "o"),
                              "--parity-puzzles", "10", "--android-assets", str(assets)])
    # refused before any work: the app runs ExecuTorch programs only
    assert res.exit_code == 2 and "android_demo runs" in res.output and not (tmp_path / "o").exists()
    from trm_edge.export.android import copy_to_android_assets

    et = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "et", parity_puzzles=0)
    names = copy_to_android_assets(et, assets)
    assert {"model.pte", "metadata.json", "init_state.f32", "samples.txt"} <= set(names)
    samples = (assets / "samples.txt").read_text().split()
    assert len(samples) == 20 and all(len(s) == 16 for s in samples)
    res = runner.invoke(app, ["export", str(trained_checkpoint), "--target", "caffe"])
    assert res.exit_code == 2 and "'caffe' is not one of" in res.output and "'onnx'" in res.output
    res = runner.invoke(app, ["export", str(et / "metadata.json"), "--target", "onnx", "--out", str(tmp_path / "z")])
    assert res.exit_code == 2 and "not a" in res.output and not (tmp_path / "z").exists()


@pytest.mark.parametrize("module", ["trm_edge.runtime.artifacts", "trm_edge.export.parity", "trm_edge.bench.worker",
                                    "trm_edge.export.tflite_worker"])
def test_modules_import_on_their_own(module):
    """An app-side script may import the runtime first; no import cycle may depend on import order."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-1000:]


def test_onnx_loop_keeps_recursion_and_halting_in_the_graph(trained_checkpoint, tmp_path):
    import torch
    from trm_edge.model import TRM
    from trm_edge.model.checkpoint import save_checkpoint

    trained = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "t", recursion="loop", parity_puzzles=40)
    p = _check_parity(trained, fp32=True)
    assert p["halting"] == "act" and p["steps_agreement"] == 1.0
    assert "error" not in read_meta(trained).extra["ort_mobile_usability"]   # strict ONNX shape inference passes
    # An untrained model never halts (q_head starts at bias -5): the Loop must then run all N_sup steps.
    ck = load_checkpoint(trained_checkpoint)
    torch.manual_seed(1)
    fresh = tmp_path / "fresh.pt"
    save_checkpoint(fresh, TRM(ck.config), ck.data_meta, info={"data_spec": ck.info["data_spec"]})
    folder = export_checkpoint(fresh, "onnx", tmp_path / "f", recursion="loop", parity_puzzles=10)
    p = _parity(folder)   # its verdict may fail: an untrained recursion amplifies fp32 rounding (see below)
    assert p["steps"] == ck.config.halt_max_steps and p["steps_agreement"] == 1.0
    # An untrained model's recursion is chaotic (fp32 rounding differences grow ~5x per step), so compare the
    # Loop with the same step graph looped on the host: the in-graph loop must change nothing.
    step_folder = export_checkpoint(fresh, "onnx", tmp_path / "s", parity_puzzles=10)
    x, ids = np.ones((3, 16), np.int64), np.zeros(3, np.int64)
    x[:, ::3] = 2
    looped = load_runner(folder).solve(x, ids, halting="act")
    hosted = load_runner(step_folder).solve(x, ids, halting="act")
    np.testing.assert_array_equal(looped.steps, hosted.steps)
    np.testing.assert_allclose(looped.logits, hosted.logits, atol=1e-5)
    runner = load_runner(folder)
    with pytest.raises(ValueError, match="halting='act'"):
        runner.solve(np.ones((1, 16), np.int64), np.zeros(1, np.int64), halting="fixed")


def test_stateful_step_graph_matches_the_step_graph(trained_checkpoint):
    """The Core ML stateful graph (y/z as buffers, reset flag) computes what the plain step graph does."""
    import torch
    from trm_edge.export.graphs import StatefulStepGraph, StepGraph, example_step_inputs

    model = load_checkpoint(trained_checkpoint).build_model().float().eval()
    stateful, plain = StatefulStepGraph(model, batch=2).eval(), StepGraph(model).eval()
    stateful.y_state.fill_(float("nan"))   # a fresh state's content must not matter when reset = 1
    x = torch.randint(1, 6, (2, 16), dtype=torch.int32)
    ids = torch.zeros(2, dtype=torch.int32)
    _, _, y, z = example_step_inputs(model, 2)
    with torch.no_grad():
        for k in range(4):
            logits_s, q_s = stateful(x, ids, torch.full((2,), 1.0 if k == 0 else 0.0))
            y, z, logits, q = plain(x, ids, y, z)
            torch.testing.assert_close(logits_s, logits)
            torch.testing.assert_close(q_s, q)
        torch.testing.assert_close(stateful.y_state, y)
        # Resetting one row restarts only that row.
        before = stateful.y_state[1].clone()
        stateful(x, ids, torch.tensor([1.0, 0.0]))
        y_first, _, _, _ = plain(x, ids, *example_step_inputs(model, 2)[2:])
    torch.testing.assert_close(stateful.y_state[0], y_first[0])
    assert not torch.allclose(stateful.y_state[1], before)   # row 1 went on from its state


def test_an_export_without_out_is_named_after_model_target_mode_precision_and_depth(trained_checkpoint, tmp_path,
                                                                                    monkeypatch):
    """The checkpoint is read once and the folder says what is in it: fp32 for 'none', int8-static when
    calibrated, the depth when an option chose it."""
    from typer.testing import CliRunner

    from trm_edge.cli import app

    monkeypatch.chdir(tmp_path)
    model = trained_checkpoint.parent.name
    for extra, name in [([], f"{model}-onnx-step-fp32"),
                        (["--quantize", "int8", "--calibration", "8"], f"{model}-onnx-step-int8-static"),
                        (["--h-cycles", "1"], f"{model}-onnx-step-fp32-T1n2")]:
        res = CliRunner().invoke(app, ["export", str(trained_checkpoint), "--target", "onnx", "--parity-puzzles", "0",
                                       *extra])
        assert res.exit_code == 0, res.output
        assert f"artifact: artifacts/{name}\n" in res.output and (tmp_path / "artifacts" / name / "metadata.json").is_file()


def test_an_artifact_finds_its_checkpoint_from_any_directory(trained_checkpoint, tmp_path, monkeypatch):
    """The checkpoint is recorded relative to the artifact folder, so the web page's samples and the bench's PyTorch
    rows find it whichever directory the later command runs in, and no absolute path ships in the metadata."""
    import shutil
    from pathlib import Path

    from trm_edge.artifact import verified_source
    from trm_edge.web.samples import band_samples

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(trained_checkpoint, project / "models" / "ck.pt")
    monkeypatch.chdir(project)
    export_checkpoint(Path("models/ck.pt"), "onnx", Path("artifacts/a"), parity_puzzles=0)
    artifact = project / "artifacts" / "a"
    meta = read_meta(artifact)
    assert meta.source_checkpoint == "../../models/ck.pt"
    monkeypatch.chdir(tmp_path)   # elsewhere: the recorded path is not relative to here
    assert verified_source(artifact, meta).resolve() == project / "models" / "ck.pt"
    assert sum(len(p) for p in band_samples(artifact, meta).values()) > 0
    res = CliRunner().invoke(app, ["web", str(artifact), "--out", str(tmp_path / "site")])
    assert res.exit_code == 0 and "no sample puzzles" not in res.output, res.output


def test_export_from_python_prints_nothing_unless_given_a_log(trained_checkpoint, tmp_path, capfd):
    """A library call is quiet: the steps are said only to a log the caller passes (the CLI passes its own)."""
    said: list[str] = []
    export_checkpoint(trained_checkpoint, "onnx", tmp_path / "quiet", parity_puzzles=0)
    assert capfd.readouterr() == ("", "")
    export_checkpoint(trained_checkpoint, "onnx", tmp_path / "told", parity_puzzles=0, log=said.append)
    assert said and capfd.readouterr().out == ""
