"""The qnn target: the step compiled for a Snapdragon HTP, run in Qualcomm's simulator on this host."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

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
from trm_edge.runtime.artifacts import load_runner
from conftest import SUDOKU9

qnn = pytest.importorskip("onnxruntime_qnn", reason="onnxruntime-qnn is not installed (pip install 'trm-edge[npu]')")


def _mlp_checkpoint(root: Path, **changes) -> Path:
    """An untrained 4x4 MLP-mixer TRM: the default preset's architecture at test size."""
    torch.manual_seed(0)
    model = TRM(tiny_config(vocab_size=sudoku.vocab_size(4), seq_len=16, mlp_t=True, pos_encodings="none", **changes))
    spec = DataSpec(task="sudoku", grid_size=4, train_puzzles=40, test_puzzles=10)
    path = root / "checkpoint.pt"
    save_checkpoint(path, model, sudoku.meta(4, 40), info={"data_spec": dataclasses.asdict(spec)})
    return path


@pytest.fixture(scope="module")
def mlp_checkpoint(tmp_path_factory) -> Path:
    return _mlp_checkpoint(tmp_path_factory.mktemp("qnn"))


@pytest.fixture(scope="module")
def wide_checkpoint(tmp_path_factory) -> Path:
    """Width 96: its MLP weights are over the 8192 elements the ONNX exporter folds by itself (as in real models)."""
    return _mlp_checkpoint(tmp_path_factory.mktemp("qnn-wide"), hidden_size=96, puzzle_emb_ndim=96)


def test_step_compiles_to_one_npu_node_and_matches_the_cpu(mlp_checkpoint, tmp_path):
    import onnx

    art = export_checkpoint(mlp_checkpoint, "qnn", tmp_path / "qnn", quantize="fp16", parity_puzzles=0,
                            options={"soc": "snapdragon-8-gen-3"})
    meta = json.loads((art / "metadata.json").read_text())
    entry = meta["extra"]["qnn"]["socs"]["snapdragon-8-gen-3"]
    assert (entry["chip"], entry["soc_model"], entry["htp_arch"]) == ("SM8650", 57, 75)
    assert entry["nodes_on_htp"] == entry["graph_nodes"] and entry["nodes_on_cpu"] == {}
    compiled = onnx.load(str(art / entry["model"]))
    assert [n.op_type for n in compiled.graph.node] == ["EPContext"]
    assert (art / entry["binary"]).stat().st_size == entry["binary_bytes"] > 0
    cpu = load_runner(export_checkpoint(mlp_checkpoint, "onnx", tmp_path / "onnx", parity_puzzles=0))
    npu = load_runner(art)
    x = sudoku.encode(sudoku.generate(1, 4, seed=3)[0][0])[None].astype(np.int32)
    ids = np.zeros(1, np.int32)
    y, z = cpu.initial_state()
    for got, want in zip(npu.step(x, ids, y, z), cpu.step(x, ids, y, z)):   # one simulated HTP step, fp16 math
        np.testing.assert_allclose(got, want, atol=0.05 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("precision, weight_type", [("w8a16", 3), ("w16a16", 5)])   # onnx INT8, INT16
def test_quantized_weights_are_stored_at_their_width_and_run_on_the_npu(wide_checkpoint, tmp_path, precision,
                                                                       weight_type):
    """Every Linear's weight reaches its MatMul as a constant of the precision's weight type: behind a runtime
    Transpose the quantizer would treat it as an activation (16-bit in w8a16) and the NPU would transpose it at
    every call."""
    import onnx

    art = export_checkpoint(wide_checkpoint, "qnn", tmp_path / precision, quantize=precision, parity_puzzles=0)
    graph = onnx.load(str(art / "source.onnx")).graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    weight_types = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        dq = producer.get(node.input[1])
        assert dq is not None and dq.op_type == "DequantizeLinear", node.name
        if dq.input[0] in inits:
            weight_types.append(inits[dq.input[0]].data_type)
        else:   # an activation operand (the token-mixing MLP's transposed input): never a weight
            assert producer[dq.input[0]].op_type == "QuantizeLinear"
            assert not any(producer.get(i) is not None and producer[i].op_type == "Transpose" and
                           producer[i].input[0] in inits for i in producer[dq.input[0]].input)
    assert weight_types and set(weight_types) == {weight_type}
    entry = next(iter(json.loads((art / "metadata.json").read_text())["extra"]["qnn"]["socs"].values()))
    assert entry["nodes_on_cpu"] == {}


def test_a_mixed_precision_list_keeps_the_named_weights_16_bit_and_every_weight_has_a_scale_per_channel(
        wide_checkpoint, tmp_path):
    """w8a16 with --w16-weights: the weights a name part picks are 16-bit, the rest int8, each with one scale per
    output channel (results/qnn-sensitivity: per-tensor scales cost the 9x9 step 40% more error), and the graph
    still runs whole on the HTP; a part that names no weight is refused, listing the names there are."""
    import onnx
    from onnx import numpy_helper

    art = export_checkpoint(wide_checkpoint, "qnn", tmp_path / "mixed", quantize="w8a16", parity_puzzles=0,
                            options={"w16-weights": "mlp.down_proj"})
    graph = onnx.load(str(art / "source.onnx")).graph
    inits = {i.name: i for i in graph.initializer}
    widths = {}
    for dq in (n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits):
        name = dq.input[0].removesuffix("_quantized")
        if name.endswith("weight.T"):
            widths[name] = inits[dq.input[0]].data_type
            channels = inits[dq.input[0]].dims[1]
            assert numpy_helper.to_array(inits[dq.input[1]]).shape == (channels,), name
    assert widths and all((kind == 5) == (".mlp.down_proj." in name) for name, kind in widths.items()), widths
    entry = next(iter(json.loads((art / "metadata.json").read_text())["extra"]["qnn"]["socs"].values()))
    assert entry["nodes_on_cpu"] == {}
    res = CliRunner().invoke(app, ["export", str(wide_checkpoint), "--target", "qnn", "--quantize", "w8a16",
                                   "--w16-weights", "attention", "--out", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "--w16-weights attention names no weight" in res.output
    assert "mlp_t.gate_up_proj.weight.T" in res.output and not (tmp_path / "bad").exists()
    res = CliRunner().invoke(app, ["export", str(wide_checkpoint), "--target", "qnn", "--quantize", "fp16",
                                   "--w16-weights", "mlp", "--out", str(tmp_path / "fp16")])
    assert res.exit_code == 2 and "not in fp16" in res.output


def test_cli_names_unknown_socs_and_precisions_and_partial_offloads(mlp_checkpoint, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["export", str(mlp_checkpoint), "--target", "qnn", "--soc", "snapdragon-9000",
                              "--out", str(tmp_path / "a")])
    assert res.exit_code == 2 and "unknown --soc 'snapdragon-9000'" in res.output and "snapdragon-8-elite" in res.output
    res = runner.invoke(app, ["export", str(mlp_checkpoint), "--target", "qnn", "--quantize", "int8",
                              "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "qnn does not support --quantize int8;" in res.output
    res = runner.invoke(app, ["export", str(mlp_checkpoint), "--target", "qnn", "--soc", "snapdragon-778g",
                              "--out", str(tmp_path / "c")])   # HTP v68: no fp16 arithmetic
    assert res.exit_code == 1 and "snapdragon-778g (HTP v68) cannot run" in res.output, res.output
    assert "--allow-cpu-fallback" in res.output
    assert not any(tmp_path.iterdir())


def test_bench_reports_answers_but_no_time_for_the_simulator(mlp_checkpoint, tmp_path):
    art = export_checkpoint(mlp_checkpoint, "qnn", tmp_path / "qnn", parity_puzzles=0)
    res = CliRunner().invoke(app, ["bench", str(art), "--threads", "1", "--puzzles", "2", "--halting", "act",
                                   "--repeats", "2", "--budget-s", "2", "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    row = next(r for r in json.loads((tmp_path / "b" / "bench.json").read_text())["rows"] if r["runtime"] == "qnn")
    assert row["status"] == "ok" and row["derived"]["simulated"] is True
    assert "exact_accuracy" in row["measured"] and not {"step", "puzzle", "puzzles_per_s"} & set(row["measured"])


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp16", "w16a16"])   # the two that keep PyTorch's accuracy (results/qnn)
def test_sudoku9_on_the_htp_simulator(precision, tmp_path):
    """The committed 9x9 model on 20 minimal puzzles with ACT halting: the NPU's exact accuracy within
    2 puzzles of PyTorch's (scripts/bench/qnn_table.py measures 50 with the paired interval)."""
    from trm_edge.datasets.splits import held_out
    from trm_edge.model.checkpoint import load_checkpoint
    from trm_edge.runtime.reference import solve_with_model

    ckpt_path = SUDOKU9
    art = export_checkpoint(ckpt_path, "qnn", tmp_path / precision, quantize=precision, parity_puzzles=0)
    ckpt = load_checkpoint(ckpt_path)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 20, "minimal")
    npu = load_runner(art).solve(data.inputs, data.puzzle_identifiers, halting="act")
    ref = solve_with_model(ckpt.build_model(), data.inputs, data.puzzle_identifiers, halting="act")
    solved = lambda r: int((r.predictions == data.labels).all(-1).sum())   # noqa: E731
    assert abs(solved(npu) - solved(ref)) <= 2, (solved(npu), solved(ref))
