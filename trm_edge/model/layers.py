"""Building blocks of the TRM net, parameter names as in the official `models/layers.py`."""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn


def trunc_normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    """Truncated normal in [-2 std, 2 std] (std corrected as in the official init)."""
    if std == 0:
        return tensor.zero_()
    # Official trunc_normal_init_ rescales so that the *truncated* distribution has this std.
    a, b = -2.0, 2.0
    z = (math.erf(b / math.sqrt(2)) - math.erf(a / math.sqrt(2))) / 2
    pdf_a = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    pdf_b = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
    comp_std = std / math.sqrt(1 - (b * pdf_b - a * pdf_a) / z - ((pdf_b - pdf_a) / z) ** 2)
    with torch.no_grad():
        nn.init.trunc_normal_(tensor, mean=0.0, std=comp_std, a=a * comp_std, b=b * comp_std)
    return tensor


def find_multiple(a: int, b: int) -> int:
    return (-(a // -b)) * b


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Weightless RMSNorm over the last axis, computed in fp32."""
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)
    return x.to(dtype)


class Linear(nn.Module):
    """Linear layer with LeCun truncated-normal init and zero bias (official CastedLinear)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_(torch.empty(out_features, in_features), std=in_features ** -0.5))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self.weight.to(x.dtype), bias)


class Embedding(nn.Module):
    """Token embedding whose table is named `embedding_weight` (official CastedEmbedding)."""

    def __init__(self, num_embeddings: int, dim: int, init_std: float) -> None:
        super().__init__()
        self.embedding_weight = nn.Parameter(trunc_normal_(torch.empty(num_embeddings, dim), std=init_std))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_weight)


class PuzzleEmbedding(nn.Module):
    """Per-puzzle-identifier embedding kept as a buffer `weights`, trained by sign-SGD (official sparse embedding).

    In training mode the rows used by a batch are gathered into a leaf tensor that receives
    gradients; `sign_sgd_step` writes the update back into the buffer.
    """

    def __init__(self, num_embeddings: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("weights", torch.zeros(num_embeddings, dim), persistent=True)
        self._local: torch.Tensor | None = None
        self._ids: torch.Tensor | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.ndim > 1:
            ids = ids.squeeze(-1)
        rows = self.weights[ids]
        if self.training and torch.is_grad_enabled():
            self._local = rows.detach().requires_grad_(True)
            self._ids = ids.detach()
            return self._local
        return rows

    @torch.no_grad()
    def sign_sgd_step(self, lr: float, weight_decay: float, gather=None) -> None:
        """Sign-SGD on the rows this step used. `gather` concatenates every data-parallel rank's rows (ids and
        their gradients), so each rank applies the same update to the same rows, as the official code does."""
        if self._local is None or self._local.grad is None:
            return
        all_ids, all_grads = self._ids, self._local.grad
        if gather is not None:
            all_ids, all_grads = gather(all_ids), gather(all_grads)
        ids, inverse = all_ids.unique(return_inverse=True)
        grad = torch.zeros(ids.shape[0], self.weights.shape[1], dtype=all_grads.dtype, device=ids.device)
        grad.index_add_(0, inverse, all_grads)
        rows = self.weights[ids]
        rows.mul_(1.0 - lr * weight_decay).add_(torch.sign(grad).to(rows.dtype), alpha=-lr)
        self.weights[ids] = rows
        self._local = None
        self._ids = None


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class RotaryEmbedding(nn.Module):
    """RoPE tables (not persistent, so never in checkpoints)."""

    def __init__(self, dim: int, max_positions: int, base: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        freqs = torch.outer(torch.arange(max_positions, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)


class Attention(nn.Module):
    """Non-causal multi-head attention with fused [q|k|v] projection and RoPE.

    `plain = True` computes the same attention from ops every mobile delegate has (see `_plain`): exporters
    set it (`plain_attention`); training keeps the fused SDPA kernel."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv_proj = Linear(hidden_size, 3 * hidden_size)
        self.o_proj = Linear(hidden_size, hidden_size)
        self.plain = False
        self.register_buffer("rotate_half_matrix", _rotate_half_matrix(self.head_dim), persistent=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor | None, sin: torch.Tensor | None) -> torch.Tensor:
        if self.plain:
            return self._plain(x, cos, sin)
        b, s, d = x.shape
        qkv = self.qkv_proj(x).view(b, s, 3 * self.num_heads, self.head_dim)
        q, k, v = qkv.split(self.num_heads, dim=2)
        if cos is not None:
            cos_, sin_ = cos.unsqueeze(-2).to(q.dtype), sin.unsqueeze(-2).to(q.dtype)
            q = q * cos_ + rotate_half(q) * sin_
            k = k * cos_ + rotate_half(k) * sin_
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=False)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, d))

    def _plain(self, x: torch.Tensor, cos: torch.Tensor | None, sin: torch.Tensor | None) -> torch.Tensor:
        """The same attention without SDPA (whose export decomposition adds mask ops: where/any/logical_not),
        the [q|k|v] split (three slices instead of split_with_sizes), rotate_half's cat (a fixed signed
        permutation applied as a matmul) or 4-D matmuls (broadcast copies): slices, 2-D/3-D matmuls, softmax
        and elementwise ops only."""
        b, s, d = x.shape
        h, hd = self.num_heads, self.head_dim
        qkv = self.qkv_proj(x)
        heads = lambda t: t.reshape(b, s, h, hd).transpose(1, 2).reshape(b * h, s, hd)
        q, k, v = (heads(qkv[..., i * d:(i + 1) * d]) for i in range(3))
        if cos is not None:
            cos_, sin_ = cos.to(q.dtype), sin.to(q.dtype)   # [s, hd], broadcast over batch x heads
            rot = self.rotate_half_matrix.to(q.dtype)
            q = q * cos_ + (q.reshape(-1, hd) @ rot).reshape(b * h, s, hd) * sin_
            k = k * cos_ + (k.reshape(-1, hd) @ rot).reshape(b * h, s, hd) * sin_
        scores = torch.bmm(q, k.transpose(1, 2)) * (hd ** -0.5)
        out = torch.bmm(torch.softmax(scores, dim=-1), v)                     # [b*h, s, hd]
        return self.o_proj(out.reshape(b, h, s, hd).transpose(1, 2).reshape(b, s, d))


def _rotate_half_matrix(dim: int) -> torch.Tensor:
    """R with x @ R == rotate_half(x): output i < dim/2 takes -x[i + dim/2], output i >= dim/2 takes x[i - dim/2]."""
    half = dim // 2
    rot = torch.zeros(dim, dim)
    idx = torch.arange(half)
    rot[idx + half, idx] = -1.0
    rot[idx, idx + half] = 1.0
    return rot


@contextmanager
def modules_switched(model: nn.Module, kind: type, flag: str) -> Iterator[nn.Module]:
    """Within the block, `flag` is True on every `kind` module of `model` (an export-only code path)."""
    found = [m for m in model.modules() if isinstance(m, kind)]
    for m in found:
        setattr(m, flag, True)
    try:
        yield model
    finally:
        for m in found:
            setattr(m, flag, False)


def plain_attention(model: nn.Module):
    """Every Attention of `model` runs its delegate-friendly path (exports trace this)."""
    return modules_switched(model, Attention, "plain")


class SwiGLU(nn.Module):
    """SwiGLU MLP; inner width rounded up to a multiple of 256 as in the official code."""

    def __init__(self, hidden_size: int, expansion: float, multiple: int = 256) -> None:
        super().__init__()
        inter = find_multiple(round(expansion * hidden_size * 2 / 3), multiple)
        self.gate_up_proj = Linear(hidden_size, inter * 2)
        self.down_proj = Linear(inter, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)
