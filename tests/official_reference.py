"""An independent functional TRM forward written directly against the official key names.

It reads a raw official state dict (prefixed keys, bf16 y/z inits) and follows
`TinyRecursiveReasoningModel_ACTV1_Inner.forward` line by line, without using trm_edge's modules,
so tests can check that our model reproduces the official computation.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _rms(x, eps=1e-5):
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + eps)).to(x.dtype)


def _swiglu(x, p):
    gate, up = F.linear(x, p["gate_up_proj.weight"]).chunk(2, dim=-1)
    return F.linear(F.silu(gate) * up, p["down_proj.weight"])


def _sub(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def official_forward(sd, inputs, ids, z_H, z_L, *, H_cycles, L_cycles, mlp_t, num_heads=8, puzzle_emb_len=16,
                     prefix="_orig_mod.model.inner."):
    sd = {k[len(prefix):]: v.float() for k, v in sd.items()}
    emb_w = sd["embed_tokens.embedding_weight"]
    hidden = emb_w.shape[1]
    emb = F.embedding(inputs, emb_w)
    if "puzzle_emb.weights" in sd:
        pe = sd["puzzle_emb.weights"][ids]
        pe = F.pad(pe, (0, puzzle_emb_len * hidden - pe.shape[-1]))
        emb = torch.cat((pe.view(-1, puzzle_emb_len, hidden), emb), dim=-2)
    x = math.sqrt(hidden) * emb
    n_layers = len({k.split(".")[2] for k in sd if k.startswith("L_level.layers.")})
    seq = x.shape[1]
    head_dim = hidden // num_heads
    inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
    emb_rope = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb_rope.cos(), emb_rope.sin()

    def rot(t):
        return torch.cat((-t[..., t.shape[-1] // 2:], t[..., : t.shape[-1] // 2]), dim=-1)

    def block(h, p):
        if mlp_t:
            t = h.transpose(1, 2)
            h = _rms(t + _swiglu(t, _sub(p, "mlp_t."))).transpose(1, 2)
        else:
            b, s, _ = h.shape
            qkv = F.linear(h, p["self_attn.qkv_proj.weight"]).view(b, s, 3 * num_heads, head_dim)
            q, k, v = qkv[:, :, :num_heads], qkv[:, :, num_heads:2 * num_heads], qkv[:, :, 2 * num_heads:]
            q = q * cos.unsqueeze(-2) + rot(q) * sin.unsqueeze(-2)
            k = k * cos.unsqueeze(-2) + rot(k) * sin.unsqueeze(-2)
            o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
            h = _rms(h + F.linear(o.transpose(1, 2).reshape(b, s, hidden), p["self_attn.o_proj.weight"]))
        return _rms(h + _swiglu(h, _sub(p, "mlp.")))

    def net(h, inj):
        h = h + inj
        for i in range(n_layers):
            h = block(h, _sub(sd, f"L_level.layers.{i}."))
        return h

    for _ in range(H_cycles):
        for _ in range(L_cycles):
            z_L = net(z_L, z_H + x)
        z_H = net(z_H, z_L)
    logits = F.linear(z_H, sd["lm_head.weight"])[:, puzzle_emb_len:]
    q = F.linear(z_H[:, 0], sd["q_head.weight"], sd["q_head.bias"])
    return z_H, z_L, logits, q[..., 0], q[..., 1]
