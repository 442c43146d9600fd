"""The fp32 parity verdict judges what matters: the cells of the puzzles PyTorch solves. Cells of puzzles neither
side solves (where the recursion is chaotic and one rounding flips the wrong answer) are reported, not judged."""
from __future__ import annotations

import numpy as np

from trm_edge.data import DatasetMeta, PuzzleSet
from trm_edge.export.parity import compare
from trm_edge.host_loop import SolveResult


def _data(n: int = 10, cells: int = 16) -> PuzzleSet:
    labels = np.tile(np.arange(2, 2 + cells) % 5 + 2, (n, 1))
    meta = DatasetMeta(vocab_size=7, seq_len=cells, total_groups=n, total_puzzles=n, task="sudoku", grid_shape=(4, 4))
    return PuzzleSet(np.ones_like(labels), labels, np.zeros(n, dtype=np.int64), meta)


def _result(predictions: np.ndarray) -> SolveResult:
    n = len(predictions)
    return SolveResult(predictions, np.full(n, 16), np.zeros((n, predictions.shape[1], 7), np.float32),
                       np.zeros(n, np.float32))


def test_cells_of_puzzles_nobody_solves_do_not_fail_fp32():
    data = _data()
    ref = data.labels.copy()
    ref[5:] = 2                       # PyTorch solves the first five only
    art = ref.copy()
    art[5:, :8] = 3                   # the artifact ends on other wrong answers there: half their cells differ
    verdict = compare(_result(art), _result(ref), data, "none")
    assert verdict["cell_agreement"] == 0.75 and verdict["cell_agreement_judged"] == 1.0
    assert verdict["within_budget"], verdict.get("reason")
    assert verdict["cells_judged_on"] == "the 5 puzzles PyTorch solves"


def test_a_wrong_cell_on_a_solved_puzzle_fails_fp32_and_says_where():
    data = _data()
    ref = data.labels.copy()
    art = ref.copy()
    art[0, 0] = 6
    verdict = compare(_result(art), _result(ref), data, "none")
    assert not verdict["within_budget"]
    assert "of the cells of the 10 puzzles PyTorch solves" in verdict["reason"]


def test_fp32_is_judged_on_one_step_fed_pytorchs_own_state(trained_checkpoint, tmp_path):
    """Teacher-forced: each step of PyTorch's trajectory, its y and z fed to both sides, so a difference in the
    arithmetic shows even where the answers hide it (logits scaled by 1% keep every argmax)."""
    import torch

    from trm_edge.datasets.splits import DataSpec, held_out
    from trm_edge.export import export_checkpoint
    from trm_edge.export.parity import parity_report
    from trm_edge.model.checkpoint import load_checkpoint

    ckpt = load_checkpoint(trained_checkpoint)
    model = ckpt.build_model().float().eval()
    artifact = export_checkpoint(trained_checkpoint, "onnx", tmp_path / "a", parity_puzzles=0)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), 16)
    good = parity_report(artifact, model, data, "none")
    assert good["status"] == "ok" and good["teacher_forced"]["max_rel_logit_diff"] < 1e-5
    assert good["teacher_forced"]["puzzles"] == 8 and len(good["teacher_forced"]["first_batch_max_abs_per_step"]) == 8
    with torch.no_grad():
        model.lm_head.weight.mul_(1.01)
    off = parity_report(artifact, model, data, "none")
    assert off["exact_accuracy_artifact"] == off["exact_accuracy_pytorch"]   # the answers alone would pass
    assert off["status"] == "failed" and "one step on the same inputs differs from PyTorch" in off["reason"]


def test_parity_can_be_judged_on_a_harder_band(trained_checkpoint, tmp_path):
    """`--parity-band minimal` checks the export on the hardest generated puzzles (the test split hides what a
    precision costs) and parity.json says so; a band that is not one is refused in one line before any work."""
    import json

    from typer.testing import CliRunner

    from trm_edge.cli import app

    args = ["export", str(trained_checkpoint), "--target", "onnx", "--parity-puzzles", "12"]
    res = CliRunner().invoke(app, args + ["--parity-band", "minimal", "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "a" / "parity.json").read_text())
    assert report["judged_on"] == "minimal puzzles" and report["status"] == "ok"
    bad = CliRunner().invoke(app, args + ["--parity-band", "hardest", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--parity-band: a band is 'minimal' or a givens range" in bad.output, bad.output
    assert not (tmp_path / "b").exists()
