"""Loss and the training loop: stablemax, ACT loss, checkpoints, resume, CLI errors, and a model that really solves."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from trm_edge.cli import app
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.train import get_preset, train
from trm_edge.train.loss import IGNORE_LABEL_ID, act_loss, log_stablemax, stablemax_cross_entropy


def test_stablemax_matches_definition():
    x = torch.tensor([[-2.0, 0.0, 3.0]])
    s = torch.tensor([1 / 3, 1.0, 4.0])
    torch.testing.assert_close(log_stablemax(x), torch.log(s / s.sum()).unsqueeze(0))
    loss = stablemax_cross_entropy(x.unsqueeze(0), torch.tensor([[2]]))
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(-np.log(4 / (1 / 3 + 1 + 4)))
    assert stablemax_cross_entropy(x.unsqueeze(0), torch.tensor([[IGNORE_LABEL_ID]])).item() == 0


def test_act_loss_means_per_sequence_and_targets_exact_correctness():
    logits = torch.zeros(2, 3, 4)
    logits[0, :, 1] = 5      # row 0 predicts 1 everywhere
    labels = torch.tensor([[1, 1, IGNORE_LABEL_ID], [1, 2, 3]])
    loss, stats = act_loss(logits, torch.zeros(2), labels)
    assert stats["seq_correct"].tolist() == [True, False]
    lm = stablemax_cross_entropy(logits, labels)
    expected = lm[0].sum() / 2 + lm[1].sum() / 3 + 0.5 * 2 * np.log(2)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def _small_run(tmp_path, steps=6, **changes):
    p = get_preset("sudoku4-tiny")
    spec = dataclasses.replace(p.data, train_puzzles=40, test_puzzles=20)
    cfg = dataclasses.replace(p.train, steps=steps, eval_every=3, batch_size=8, eval_puzzles=10, **changes)
    return spec, cfg, train(spec, cfg, tmp_path, device="cpu", progress=False)


def test_training_writes_checkpoint_log_and_resumes(tmp_path):
    spec, cfg, result = _small_run(tmp_path)
    ckpt = load_checkpoint(result.checkpoint)
    assert ckpt.info["step"] == 6 and ckpt.data_meta.vocab_size == 6
    records = [json.loads(l) for l in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6]
    assert 0.0 <= records[-1]["test"]["exact_accuracy"] <= 1.0
    # EMA weights are what the checkpoint serves, and they differ from the raw weights.
    raw = torch.load(result.checkpoint, weights_only=True)["training_state"]["model"]
    assert not torch.equal(raw["lm_head.weight"], ckpt.state_dict["lm_head.weight"])
    more = dataclasses.replace(cfg, steps=9)
    again = train(spec, more, tmp_path, device="cpu", resume=result.checkpoint, progress=False)
    assert load_checkpoint(again.checkpoint).info["step"] == 9


def test_resume_refuses_other_config(tmp_path):
    spec, cfg, result = _small_run(tmp_path / "a", steps=3)
    other = dataclasses.replace(cfg, arch=cfg.arch | {"hidden_size": 32, "puzzle_emb_ndim": 32})
    with pytest.raises(ValueError, match="different model config"):
        train(spec, other, tmp_path / "b", device="cpu", resume=result.checkpoint, progress=False)


def test_resume_may_change_the_depth_and_keeps_the_weights(tmp_path):
    spec, cfg, result = _small_run(tmp_path / "a", steps=3)
    deeper = dataclasses.replace(cfg, steps=4, arch=cfg.arch | {"H_cycles": 4, "L_cycles": 1})
    said: list[str] = []
    again = train(spec, deeper, tmp_path / "b", device="cpu", resume=result.checkpoint, progress=False, log=said.append)
    assert any("at T=4, n=1 (it was trained at T=" in line for line in said)
    before, after = load_checkpoint(result.checkpoint), load_checkpoint(again.checkpoint)
    assert after.config.depth() == {"H_cycles": 4, "L_cycles": 1} and after.info["step"] == 4
    assert before.config.same_weights_as(after.config) and after.state_dict.keys() == before.state_dict.keys()


def test_cli_train_reports_bad_input(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--preset", "nope"])
    assert res.exit_code == 2 and "unknown preset" in res.output
    res = runner.invoke(app, ["train", "--task", "arc", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--data-path" in res.output
    res = runner.invoke(app, ["train", "--list-presets"])
    assert res.exit_code == 0 and "sudoku4-tiny" in res.output and "sudoku-mlp" in res.output


def test_cli_train_and_evaluate_small_run(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--steps", "4", "--batch-size", "8", "--eval-every", "4", "--quiet",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "test exact accuracy" in res.output
    res = runner.invoke(app, ["evaluate", str(tmp_path / "checkpoint.pt"), "--puzzles", "10", "--halting", "act", "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output[res.output.index("{"):])
    assert metrics["puzzles"] == 10 and 1 <= metrics["mean_steps"] <= 8


def test_cli_resume_without_a_preset_continues_the_run_where_it_is(tmp_path, monkeypatch):
    """`train --resume RUN/checkpoint.pt --steps N` (the README's command) continues that run: its own data and
    settings (not the default preset's), written back into its own folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--preset", "sudoku6-tiny", "--steps", "3", "--batch-size", "8",
                              "--eval-every", "3", "--eval-puzzles", "10", "--quiet", "--out", str(tmp_path / "run6")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["train", "--resume", str(tmp_path / "run6" / "checkpoint.pt"), "--steps", "5", "--quiet"])
    assert res.exit_code == 0, res.output
    ckpt = load_checkpoint(tmp_path / "run6" / "checkpoint.pt")
    assert ckpt.info["step"] == 5 and ckpt.info["train_config"]["batch_size"] == 8 and ckpt.data_meta.grid_shape[0] == 6
    assert not (tmp_path / "runs").exists()
    res = runner.invoke(app, ["train", "--resume", str(tmp_path / "run6" / "train_log.jsonl"), "--steps", "6"])
    assert res.exit_code == 2


def test_default_preset_learns_to_solve(trained_checkpoint):
    """The fixture trains the default preset for 1000 steps; it must solve most held-out 4x4 puzzles."""
    ckpt = load_checkpoint(trained_checkpoint)
    assert ckpt.info["test_metrics"]["exact_accuracy"] >= 0.9


def test_model_size_from_the_command_line_and_a_config_file(tmp_path):
    """Another model size without editing presets: --config (data/train/arch sections), then options on top."""
    from typer.testing import CliRunner

    from trm_edge.cli import app
    from trm_edge.model.checkpoint import load_checkpoint

    config = tmp_path / "small.yaml"
    config.write_text("arch:\n  hidden_size: 48\n  puzzle_emb_ndim: 48\ntrain:\n  steps: 2\n  eval_every: 2\n"
                      "  eval_puzzles: 8\ndata:\n  train_puzzles: 64\n  test_puzzles: 16\n")
    res = CliRunner().invoke(app, ["train", "--config", str(config), "--h-cycles", "1", "--out", str(tmp_path / "r"),
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    cfg = load_checkpoint(tmp_path / "r" / "checkpoint.pt").config
    assert (cfg.hidden_size, cfg.H_cycles, cfg.L_cycles) == (48, 1, 2)   # file, option, preset
    config.write_text("arch:\n  hidden_sise: 48\n")
    res = CliRunner().invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and "unknown model field(s) hidden_sise" in res.output and not (tmp_path / "s").exists()


def test_resume_with_nothing_left_to_train_says_so_and_writes_nothing(tmp_path):
    spec, cfg, result = _small_run(tmp_path / "a", steps=3)
    res = CliRunner().invoke(app, ["train", "--resume", str(result.checkpoint), "--steps", "3",
                                   "--out", str(tmp_path / "other")])
    assert res.exit_code == 2 and "already at step 3" in res.output, res.output
    assert not (tmp_path / "other").exists()


def test_a_resume_makes_the_log_agree_with_its_checkpoint(tmp_path):
    """A kill between the checkpoint's rename and its log line leaves a newer checkpoint beside an older log (or
    another run's log): the resumed run's log has each step once, in order, and only its own run's records."""
    spec, cfg, result = _small_run(tmp_path, steps=6)
    at_six = load_checkpoint(result.checkpoint).info["test_metrics"]
    log = tmp_path / "train_log.jsonl"
    lines = log.read_text().splitlines()
    stranger = json.dumps({"step": 3, "test": {}, "run": "another-run"})
    log.write_text(stranger + "\n" + lines[0] + "\n" + '{"step": 6, "trunc')   # step 6's line lost to a kill
    again = train(spec, dataclasses.replace(cfg, steps=9), tmp_path, device="cpu", resume=result.checkpoint,
                  progress=False)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6, 9]
    assert len({r["run"] for r in records}) == 1 and records[0]["run"] != "another-run"
    assert records[1]["test"] == at_six and "note" in records[1]
    assert load_checkpoint(again.checkpoint).info["run_id"] == records[0]["run"]
