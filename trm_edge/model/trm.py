"""The Tiny Recursive Model: one 2-layer net applied recursively to (y, z).

Module and parameter names follow the official `TinyRecursiveReasoningModel_ACTV1_Inner`
so that its state dict loads after stripping the `model.inner.` prefix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .. import schedule
from .config import TRMConfig
from .layers import Attention, Embedding, Linear, PuzzleEmbedding, RotaryEmbedding, SwiGLU, rms_norm, trunc_normal_


@dataclass
class Carry:
    """Recurrent state between supervision steps: answer y (official z_H) and latent z (official z_L)."""

    y: torch.Tensor
    z: torch.Tensor

    def detach(self) -> "Carry":
        return Carry(self.y.detach(), self.z.detach())


@dataclass
class StepOutput:
    carry: Carry
    logits: torch.Tensor        # [B, seq_len, vocab]
    q_halt: torch.Tensor        # [B] halt logit (fp32)
    q_continue: torch.Tensor    # [B] continue logit (fp32)


class Block(nn.Module):
    """Post-norm block: token mixing (attention, or `mlp_t` across the sequence) then SwiGLU."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.config = config
        if config.mlp_t:
            self.mlp_t = SwiGLU(config.total_len, config.expansion, config.ffn_multiple)
        else:
            self.self_attn = Attention(config.hidden_size, config.num_heads)
        self.mlp = SwiGLU(config.hidden_size, config.expansion, config.ffn_multiple)

    def forward(self, h: torch.Tensor, cos: torch.Tensor | None, sin: torch.Tensor | None) -> torch.Tensor:
        eps = self.config.rms_norm_eps
        if self.config.mlp_t:
            # Official: transpose to [B, D, L], mix and normalise over the sequence axis, transpose back.
            t = h.transpose(1, 2)
            h = rms_norm(t + self.mlp_t(t), eps).transpose(1, 2)
        else:
            h = rms_norm(h + self.self_attn(h, cos, sin), eps)
        return rms_norm(h + self.mlp(h), eps)


class ReasoningModule(nn.Module):
    """`L_level`: adds the injection, then runs the blocks."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(config) for _ in range(config.L_layers))

    def forward(self, h: torch.Tensor, injection: torch.Tensor,
                cos: torch.Tensor | None = None, sin: torch.Tensor | None = None) -> torch.Tensor:
        h = h + injection
        for layer in self.layers:
            h = layer(h, cos, sin)
        return h


class TRM(nn.Module):
    """TRM inner model: embeddings, the shared net `L_level`, heads and the recursion schedule."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden_size
        self.embed_scale = math.sqrt(d)
        self.embed_tokens = Embedding(config.vocab_size, d, init_std=1.0 / self.embed_scale)
        self.lm_head = Linear(d, config.vocab_size, bias=False)
        self.q_head = Linear(d, 2, bias=True)
        if config.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(config.num_puzzle_identifiers, config.puzzle_emb_ndim)
        if config.pos_encodings == "rope":
            self.rotary_emb = RotaryEmbedding(d // config.num_heads, config.total_len, config.rope_theta)
        elif config.pos_encodings == "learned":
            self.embed_pos = Embedding(config.total_len, d, init_std=1.0 / self.embed_scale)
        self.L_level = ReasoningModule(config)
        self.register_buffer("H_init", trunc_normal_(torch.empty(d), std=1.0), persistent=True)
        self.register_buffer("L_init", trunc_normal_(torch.empty(d), std=1.0), persistent=True)
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    # ----- pieces of one supervision step (also exported separately) -----
    def rope(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if hasattr(self, "rotary_emb"):
            return self.rotary_emb.cos_cached, self.rotary_emb.sin_cached
        return None, None

    def input_embeddings(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """x = sqrt(D) * cat(puzzle embedding padded to the prefix, token embeddings)."""
        cfg = self.config
        emb = self.embed_tokens(inputs.long())
        if cfg.puzzle_emb_ndim > 0:
            pe = self.puzzle_emb(puzzle_identifiers.long())
            pad = cfg.prefix_len * cfg.hidden_size - pe.shape[-1]
            if pad > 0:
                pe = torch.nn.functional.pad(pe, (0, pad))
            emb = torch.cat((pe.view(-1, cfg.prefix_len, cfg.hidden_size).to(emb.dtype), emb), dim=-2)
        if cfg.pos_encodings == "learned":
            emb = 0.707106781 * (emb + self.embed_pos.embedding_weight)
        return self.embed_scale * emb

    def latent_update(self, z: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """z <- net(z, y + x)."""
        cos, sin = self.rope()
        return self.L_level(z, y + x, cos, sin)

    def answer_update(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y <- net(y, z)."""
        cos, sin = self.rope()
        return self.L_level(y, z, cos, sin)

    def cycle(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One cycle: n latent updates then one answer update (the order in `schedule.cycle`)."""
        return schedule.cycle(self.latent_update, self.answer_update, y, z, x, self.config.L_cycles)

    def heads(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits over grid cells, q_halt, q_continue) from the answer state."""
        logits = self.lm_head(y)[:, self.config.prefix_len:]
        q = self.q_head(y[:, 0]).float()
        return logits, q[..., 0], q[..., 1]

    def initial_carry(self, batch_size: int, device: torch.device | None = None,
                      dtype: torch.dtype = torch.float32) -> Carry:
        shape = (batch_size, self.config.total_len, self.config.hidden_size)
        y = self.H_init.to(device=device, dtype=dtype).expand(shape).clone()
        z = self.L_init.to(device=device, dtype=dtype).expand(shape).clone()
        return Carry(y, z)

    def reset_carry(self, reset: torch.Tensor, carry: Carry) -> Carry:
        """Reinitialise the rows flagged in `reset` (halted sequences get a new puzzle)."""
        flag = reset.view(-1, 1, 1)
        return Carry(torch.where(flag, self.H_init.to(carry.y.dtype), carry.y),
                     torch.where(flag, self.L_init.to(carry.z.dtype), carry.z))

    def step(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor, train: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The recursion of one deep-supervision step: T cycles of the one net. With `train`, the first T-1
        cycles run without grad and only the last is back-propagated (official); graphs for export and
        inference run all T plainly. Training, every exported graph and the FLOP counter call this."""
        for t in range(self.config.H_cycles):
            if train and t < self.config.H_cycles - 1:
                with torch.no_grad():
                    y, z = self.cycle(y, z, x)
            else:
                y, z = self.cycle(y, z, x)
        return y, z

    def infer_step(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor, y: torch.Tensor, z: torch.Tensor):
        """(y, z, logits, q_halt) after one supervision step from tokens: what an exported step graph computes."""
        y, z = self.step(y, z, self.input_embeddings(inputs, puzzle_identifiers))
        logits, q_halt, _ = self.heads(y)
        return y, z, logits, q_halt

    def forward(self, carry: Carry, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> StepOutput:
        """One deep-supervision step for training (and the ACT loop); the carry leaves detached."""
        y, z = self.step(carry.y, carry.z, self.input_embeddings(inputs, puzzle_identifiers), train=True)
        logits, q_halt, q_continue = self.heads(y)
        return StepOutput(Carry(y, z).detach(), logits, q_halt, q_continue)

    def num_parameters(self) -> int:
        """Trainable parameters (the puzzle-embedding table and y/z inits are buffers, as in the paper's counts)."""
        return sum(p.numel() for p in self.parameters())
