"""Calibrated int4: GPTQ weights lie on each runtime's own 4-bit grid (its quantizer at export reproduces them
exactly), keep the layer's output closer than rounding to nearest, and every int4 export keeps the token mixer
in int8."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trm_edge.export.int4_gptq import gptq, output_error
from trm_edge.targets.precision import ORT_INT4, TORCHAO_INT4


def _layer(seed: int = 0, rows: int = 24, cols: int = 96) -> tuple[torch.Tensor, torch.Tensor]:
    """A weight and correlated inputs' second moment (what a real layer's inputs look like to GPTQ)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=g) * 0.1
    mix = torch.randn(cols, cols, generator=g) / cols ** 0.5 + torch.eye(cols)
    x = torch.randn(4096, cols, generator=g) @ mix
    return w, (x.T @ x / len(x)).double()


def _rounded(w: torch.Tensor, divisor: float, signed: bool) -> torch.Tensor:
    """Rounding to nearest on the same grid (what the runtimes do without calibration)."""
    blocks = w.reshape(w.shape[0], -1, 32)
    anchor = blocks.gather(2, blocks.abs().argmax(2, keepdim=True))
    scale = (anchor if signed else anchor.abs()) / divisor
    return (torch.clamp(torch.round(blocks / scale), -8, 7) * scale).reshape(w.shape)


def test_onnx_runtimes_own_int4_quantizer_reproduces_the_gptq_weights():
    from onnxruntime.capi._pybind_state import quantize_matmul_4bits

    w, stats = _layer()
    chosen = gptq(w, stats, ORT_INT4, 32)
    rows, cols = chosen.shape                       # ONNX stores B as (K, N): blocks run along K
    b = chosen.T.contiguous().numpy()
    packed = np.zeros((rows, cols // 32, 16), np.uint8)
    scales = np.zeros((rows, cols // 32), np.float32)
    quantize_matmul_4bits(packed, b, scales, np.zeros((rows, 1), np.uint8), 32, rows, cols, True)
    codes = np.stack([packed & 15, packed >> 4], -1).reshape(rows, cols).astype(np.float32) - 8
    assert np.array_equal(codes * np.repeat(scales, 32, 1), chosen.numpy())
    assert output_error(w, chosen, stats) < 0.7 * output_error(w, _rounded(w, -8.0, True), stats)


@pytest.mark.parametrize("grid", [ORT_INT4, TORCHAO_INT4], ids=["onnx", "torchao"])
def test_rounding_the_strongest_inputs_first_keeps_the_output_closer(grid):
    """Real layer inputs differ in energy by orders of magnitude (the 9x9 model's GPTQ objective: 2.7x lower with
    act-order); on such a layer act-order leaves less error than rounding the columns in their stored order."""
    w, stats = _layer(2)
    spread = torch.exp(torch.linspace(-2, 2, len(stats), dtype=stats.dtype))
    spread = spread[torch.randperm(len(stats), generator=torch.Generator().manual_seed(2))]
    stats = spread[:, None] * stats * spread[None, :]
    in_order = output_error(w, gptq(w, stats, grid, 32, act_order=False), stats)
    assert output_error(w, gptq(w, stats, grid, 32), stats) < 0.75 * in_order


def test_torchaos_int4_quantizer_reproduces_the_gptq_weights():
    pytest.importorskip("torchao")
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerGroup

    w, stats = _layer(1)
    chosen = gptq(w, stats, TORCHAO_INT4, 32)
    linear = torch.nn.Sequential(torch.nn.Linear(w.shape[1], w.shape[0], bias=False))
    linear[0].weight.data = chosen.clone()
    quantize_(linear, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, weight_granularity=PerGroup(32)))
    q = linear[0].weight
    step = torch.repeat_interleave(q.scale.reshape(w.shape[0], -1), 32, 1)
    stored = q.qdata.float() * step
    rounded_chosen = _rounded(chosen, 7.5, False)
    blocks = chosen.reshape(w.shape[0], -1, 32).abs()
    anchors = (blocks == blocks.amax(2, keepdim=True)).reshape(w.shape)
    assert torch.equal(stored[~anchors], rounded_chosen[~anchors])   # every code but the anchors' exactly
    assert ((stored - rounded_chosen).abs()[anchors] <= step[anchors] * 1.0001).all()   # an anchor sits at 7.5 steps
    assert output_error(w, rounded_chosen, stats) < 0.7 * output_error(w, _rounded(w, 7.5, False), stats)


def test_an_int4_export_keeps_the_token_mixer_in_int8_and_says_how_it_chose(trained_checkpoint, tmp_path):
    import onnx

    from trm_edge.artifact import read_meta
    from trm_edge.export import export_checkpoint

    folder = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "a", quantize="int4", parity_puzzles=20)
    notes = " ".join(read_meta(folder).extra["notes"])
    assert "chosen by GPTQ on the layer inputs of" in notes and "token-mixer MatMuls" in notes
    ops = [n.op_type for n in onnx.load(str(folder / "model.onnx")).graph.node]
    assert "MatMulNBits" in ops and "MatMul" in ops    # the token mixer's MatMuls are not 4-bit
    assert (folder / "parity.json").read_text().count('"status": "ok"') >= 1


def test_calibration_is_refused_where_trm_edge_does_not_know_the_int4_grid(trained_checkpoint, tmp_path):
    from typer.testing import CliRunner

    from trm_edge.cli import app

    res = CliRunner().invoke(app, ["export", str(trained_checkpoint), "--target", "coreml", "--quantize", "int4",
                                   "--calibration", "64", "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and "coreml int4 is not calibrated" in res.output, res.output
    assert not (tmp_path / "c").exists()
