"""Official checkpoints: key prefixes, bf16 inits, shape inference, equivalence with the official forward."""
from __future__ import annotations

import pytest
import torch
import yaml

from trm_edge.model import TRM, TRMConfig
from trm_edge.model.checkpoint import CheckpointError, load_checkpoint
from trm_edge.model.official import to_official_state_dict

from official_reference import official_forward


def _official_file(tmp_path, config: TRMConfig, prefix="_orig_mod.model.inner.", seed=0):
    torch.manual_seed(seed)
    model = TRM(config)
    with torch.no_grad():   # non-trivial heads and puzzle embedding
        model.q_head.weight.normal_(0, 0.05)
        model.puzzle_emb.weights.normal_(0, 0.5)
    sd = to_official_state_dict(model.state_dict(), prefix)
    path = tmp_path / "step_1000"
    torch.save(sd, path)
    return path, sd


@pytest.mark.parametrize("mlp_t", [True, False])
def test_import_matches_official_forward(tmp_path, mlp_t):
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=128, num_heads=2, H_cycles=2, L_cycles=3,
                    mlp_t=mlp_t, pos_encodings="none" if mlp_t else "rope", puzzle_emb_ndim=128)
    path, sd = _official_file(tmp_path, cfg)
    (tmp_path / "all_config.yaml").write_text(yaml.safe_dump({"arch": {
        "H_cycles": 2, "L_cycles": 3, "num_heads": 2, "mlp_t": mlp_t, "puzzle_emb_ndim": "${.hidden_size}",
        "pos_encodings": "none" if mlp_t else "rope"}}))
    ckpt = load_checkpoint(path, tmp_path / "all_config.yaml")
    assert ckpt.source == "official"
    assert ckpt.config.mlp_t == mlp_t and ckpt.config.seq_len == 81 and ckpt.config.H_cycles == 2
    model = ckpt.build_model()
    x = torch.randint(0, 11, (3, 81))
    ids = torch.zeros(3, dtype=torch.long)
    carry = model.initial_carry(3)
    y0 = sd["_orig_mod.model.inner.H_init"].float().expand(3, 97, 128)
    z0 = sd["_orig_mod.model.inner.L_init"].float().expand(3, 97, 128)
    with torch.no_grad():
        out = model(carry, x, ids)
        ref = official_forward(sd, x, ids, y0, z0, H_cycles=2, L_cycles=3, mlp_t=mlp_t, num_heads=2)
    torch.testing.assert_close(carry.y, y0)   # bf16 inits are loaded exactly
    torch.testing.assert_close(out.logits, ref[2], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out.q_halt, ref[3], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out.carry.y, ref[0], atol=1e-4, rtol=1e-4)


def test_import_without_yaml_infers_from_shapes(tmp_path):
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=64, num_heads=1, mlp_t=True, pos_encodings="none",
                    puzzle_emb_ndim=64)
    path, _ = _official_file(tmp_path, cfg, prefix="model.inner.")
    ckpt = load_checkpoint(path)
    c = ckpt.config
    assert (c.vocab_size, c.seq_len, c.hidden_size, c.mlp_t, c.L_layers, c.L_cycles) == (11, 81, 64, True, 2, 6)
    assert any("L_cycles" in n for n in ckpt.info["notes"])      # the guess is reported
    assert ckpt.data_meta.task == "sudoku"


def test_attention_seq_len_guessed_from_vocab_or_overridden(tmp_path):
    cfg = TRMConfig(vocab_size=6, seq_len=900, hidden_size=64, num_heads=1, puzzle_emb_ndim=64, L_cycles=4)
    path, _ = _official_file(tmp_path, cfg)
    assert load_checkpoint(path).config.seq_len == 900
    other = TRMConfig(vocab_size=7, seq_len=25, hidden_size=64, num_heads=1, puzzle_emb_ndim=64)
    path2, _ = _official_file(tmp_path, other)
    with pytest.raises(CheckpointError, match="seq_len"):
        load_checkpoint(path2)
    assert load_checkpoint(path2, overrides={"seq_len": 25, "num_heads": 1}).config.seq_len == 25


def test_foreign_files_get_clear_errors(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_checkpoint(junk)
    other = tmp_path / "resnet.pt"
    torch.save({"conv1.weight": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not a TRM checkpoint"):
        load_checkpoint(other)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing")
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=64, num_heads=1, mlp_t=True, pos_encodings="none",
                    puzzle_emb_ndim=64)
    path, sd = _official_file(tmp_path, cfg)
    del sd["_orig_mod.model.inner.L_level.layers.1.mlp.down_proj.weight"]
    torch.save(sd, path)
    with pytest.raises(CheckpointError, match="missing 1 tensors"):
        load_checkpoint(path)


def test_import_cli_writes_trm_edge_checkpoint(tmp_path):
    from typer.testing import CliRunner
    from trm_edge.cli import app

    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=64, num_heads=1, mlp_t=True, pos_encodings="none",
                    puzzle_emb_ndim=64)
    path, _ = _official_file(tmp_path, cfg)
    out = tmp_path / "imported.pt"
    res = CliRunner().invoke(app, ["import-official", str(path), "--out", str(out), "--l-cycles", "6"])
    assert res.exit_code == 0, res.output
    ck = load_checkpoint(out)
    assert ck.source == "trm-edge" and ck.config.L_cycles == 6 and ck.info["source"] == "official"
    bad = CliRunner().invoke(app, ["import-official", str(tmp_path / "nope"), "--out", str(out)])
    assert bad.exit_code == 2 and "no checkpoint file" in bad.output


def test_import_without_yaml_uses_official_defaults_and_says_so(tmp_path):
    """hidden 128 with the official 8 heads (not hidden // 64), and every guessed value printed."""
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=128, num_heads=8, H_cycles=3, L_cycles=6,
                    puzzle_emb_ndim=128)
    path, sd = _official_file(tmp_path, cfg)
    ckpt = load_checkpoint(path)
    assert ckpt.config.num_heads == 8 and ckpt.config.puzzle_emb_len == 16
    notes = " ".join(ckpt.info["notes"])
    for guessed in ("num_heads 8", "H_cycles 3", "L_cycles 6", "halt_max_steps 16", "puzzle_emb_len 16", "seq_len 81"):
        assert guessed in notes, notes
    x, ids = torch.randint(0, 11, (2, 81)), torch.zeros(2, dtype=torch.long)
    y0 = sd["_orig_mod.model.inner.H_init"].float().expand(2, 97, 128)
    z0 = sd["_orig_mod.model.inner.L_init"].float().expand(2, 97, 128)
    with torch.no_grad():
        out = ckpt.build_model()(ckpt.build_model().initial_carry(2), x, ids)
        ref = official_forward(sd, x, ids, y0, z0, H_cycles=3, L_cycles=6, mlp_t=False, num_heads=8)
    torch.testing.assert_close(out.logits, ref[2], atol=1e-4, rtol=1e-4)
    assert ckpt.info["data_spec"]["task"] == "sudoku" and ckpt.info["data_spec"]["grid_size"] == 9


def test_puzzle_emb_len_comes_from_the_tensors_and_contradictions_are_refused(tmp_path):
    """An MLP model trained with puzzle_emb_len 0 (one prefix position) loads as such, not as 16."""
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=64, H_cycles=2, L_cycles=2, mlp_t=True,
                    pos_encodings="none", puzzle_emb_ndim=64, puzzle_emb_len=0)
    path, _ = _official_file(tmp_path, cfg)
    ckpt = load_checkpoint(path)
    assert ckpt.config.puzzle_emb_len == 0 and ckpt.config.prefix_len == 1 and ckpt.config.seq_len == 81
    with pytest.raises(CheckpointError, match="puzzle_emb_len 16 contradicts the tensors"):
        load_checkpoint(path, overrides={"puzzle_emb_len": 16})
