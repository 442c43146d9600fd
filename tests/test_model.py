"""Model: paper parameter counts, official key names, recursion schedule (which calls carry grad), ACT halting."""
from __future__ import annotations

import pytest
import torch

from trm_edge.model import ACTModel, TRM, TRMConfig

from conftest import tiny_config


@pytest.mark.parametrize("config, expected", [
    (TRMConfig(vocab_size=11, seq_len=81, mlp_t=True, pos_encodings="none"), 5_028_866),   # Sudoku-MLP
    (TRMConfig(vocab_size=11, seq_len=81), 6_828_034),                                      # Sudoku-Att
    (TRMConfig(vocab_size=6, seq_len=900, L_cycles=4), 6_822_914),                          # Maze-Att
])
def test_paper_parameter_counts(config, expected):
    assert TRM(config).num_parameters() == expected


def test_state_dict_uses_official_key_names_and_shapes():
    sd = TRM(TRMConfig(vocab_size=11, seq_len=81)).state_dict()
    assert sd["embed_tokens.embedding_weight"].shape == (11, 512)
    assert sd["L_level.layers.0.self_attn.qkv_proj.weight"].shape == (1536, 512)
    assert sd["L_level.layers.1.mlp.gate_up_proj.weight"].shape == (3072, 512)
    assert sd["L_level.layers.1.mlp.down_proj.weight"].shape == (512, 1536)
    assert sd["puzzle_emb.weights"].shape == (1, 512)
    assert sd["q_head.bias"].tolist() == [-5.0, -5.0] and sd["q_head.weight"].abs().sum() == 0
    assert not any("norm" in k or "rotary" in k for k in sd)
    mlp = TRM(TRMConfig(vocab_size=11, seq_len=81, mlp_t=True, pos_encodings="none")).state_dict()
    assert mlp["L_level.layers.0.mlp_t.gate_up_proj.weight"].shape == (1024, 97)
    assert mlp["L_level.layers.0.mlp_t.down_proj.weight"].shape == (97, 512)


def test_only_last_cycle_carries_grad():
    cfg = tiny_config(H_cycles=3, L_cycles=4)
    model = TRM(cfg).train()
    grad_flags: list[bool] = []
    model.L_level.register_forward_hook(lambda m, i, o: grad_flags.append(o.requires_grad))
    carry = model.initial_carry(2)
    out = model(carry, torch.randint(0, 6, (2, 16)), torch.zeros(2, dtype=torch.long))
    per_cycle = cfg.L_cycles + 1
    assert len(grad_flags) == cfg.H_cycles * per_cycle
    assert grad_flags == [False] * (cfg.H_cycles - 1) * per_cycle + [True] * per_cycle
    assert out.logits.requires_grad and not out.carry.y.requires_grad and not out.carry.z.requires_grad
    out.logits.sum().backward()
    assert model.embed_tokens.embedding_weight.grad is not None


def test_cycle_order_is_n_latent_updates_then_one_answer_update():
    cfg = tiny_config(H_cycles=1, L_cycles=3)
    model = TRM(cfg).eval()
    calls: list[str] = []
    orig_latent, orig_answer = model.latent_update, model.answer_update
    model.latent_update = lambda *a: (calls.append("z"), orig_latent(*a))[1]
    model.answer_update = lambda *a: (calls.append("y"), orig_answer(*a))[1]
    model(model.initial_carry(1), torch.randint(0, 6, (1, 16)), torch.zeros(1, dtype=torch.long))
    assert calls == ["z", "z", "z", "y"]


def test_host_schedule_over_one_net_reproduces_the_models_step():
    """A `--recursion net` artifact's host runs schedule.host_step around single net calls: same numbers."""
    from trm_edge.schedule import host_step

    model = TRM(tiny_config(H_cycles=3, L_cycles=2, pos_encodings="rope")).eval()
    carry = model.initial_carry(2)
    x = model.input_embeddings(torch.randint(0, 6, (2, 16)), torch.zeros(2, dtype=torch.long))
    cos, sin = model.rope()
    calls = []

    def net(hidden, injection):
        calls.append(1)
        return model.L_level(hidden, injection, cos, sin)

    with torch.no_grad():
        expected = model.step(carry.y, carry.z, x)
        got = host_step(net, carry.y, carry.z, x, 3, 2)
    assert len(calls) == 3 * (2 + 1)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


def test_mlp_t_normalises_over_the_sequence_axis():
    """Official mlp_t block: rms_norm is applied while transposed, i.e. across positions."""
    cfg = tiny_config(mlp_t=True, pos_encodings="none", L_layers=1)
    block = TRM(cfg).L_level.layers[0]
    h = torch.randn(2, cfg.total_len, cfg.hidden_size)
    t = h.transpose(1, 2)
    mixed = t + block.mlp_t(t)
    expected_after_mix = (mixed * torch.rsqrt(mixed.square().mean(-1, keepdim=True) + 1e-5)).transpose(1, 2)
    out = block(h, None, None)
    ref = expected_after_mix + block.mlp(expected_after_mix)
    ref = ref * torch.rsqrt(ref.square().mean(-1, keepdim=True) + 1e-5)
    torch.testing.assert_close(out, ref)


def test_act_eval_runs_all_steps_and_train_halts_on_q():
    cfg = tiny_config(halt_max_steps=4, halt_exploration_prob=0.0)
    model = TRM(cfg)
    act = ACTModel(model)
    x = torch.randint(0, 6, (3, 16))
    ids = torch.zeros(3, dtype=torch.long)
    act.eval()
    state = act.initial_state(x, x, ids)
    for k in range(1, 5):
        state, _ = act(state, x, x, ids)
        assert state.steps.tolist() == [k] * 3
        assert state.halted.all().item() == (k == 4)
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)  # q_halt > 0 everywhere: halt after the first step in training
    act.train()
    state = act.initial_state(x, x, ids)
    state, _ = act(state, x, x, ids)
    assert state.halted.all() and state.steps.tolist() == [1, 1, 1]


def test_act_replaces_only_halted_rows():
    cfg = tiny_config(halt_max_steps=2)
    act = ACTModel(TRM(cfg)).eval()
    a, b = torch.full((2, 16), 2), torch.full((2, 16), 3)
    ids = torch.zeros(2, dtype=torch.long)
    state = act.initial_state(a, a, ids)
    state, _ = act(state, a, a, ids)          # step 1 on `a`, not halted
    state, _ = act(state, b, b, ids)          # not halted: still `a`
    assert torch.equal(state.inputs, a) and state.halted.all()
    state, _ = act(state, b, b, ids)          # halted rows take `b`, steps restart
    assert torch.equal(state.inputs, b) and state.steps.tolist() == [1, 1]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="pos_encodings"):
        tiny_config(pos_encodings="alibi")
    with pytest.raises(ValueError, match="num_heads"):
        tiny_config(hidden_size=30, num_heads=4)
    with pytest.raises(ValueError, match="missing required"):
        TRMConfig.from_dict({"hidden_size": 64})
