"""Stablemax cross-entropy and the ACT loss head (official `models/losses.py`)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_LABEL_ID = -100


def log_stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log of s(x)/sum s(x), s(x) = x + 1 for x >= 0 and 1/(1 - x) otherwise."""
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    return torch.log(s / s.sum(dim=dim, keepdim=True))


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token loss in float64; 0 where label is IGNORE_LABEL_ID."""
    logp = log_stablemax(logits.to(torch.float64))
    mask = labels != IGNORE_LABEL_ID
    safe = torch.where(mask, labels, 0).long()
    picked = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return -torch.where(mask, picked, 0)


def act_loss(logits: torch.Tensor, q_halt: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Sum over the batch of (mean token loss per sequence) + 0.5 * BCE(q_halt, sequence exactly right).

    `labels` use IGNORE_LABEL_ID for cells without a target.
    """
    mask = labels != IGNORE_LABEL_ID
    counts = mask.sum(-1)
    with torch.no_grad():
        correct = mask & (logits.argmax(-1) == labels)
        seq_correct = correct.sum(-1) == counts
    lm = (stablemax_cross_entropy(logits, labels) / counts.clamp_min(1).unsqueeze(-1)).sum()
    q = F.binary_cross_entropy_with_logits(q_halt, seq_correct.to(q_halt.dtype), reduction="sum")
    stats = {"lm_loss": lm.detach(), "q_halt_loss": q.detach(), "seq_correct": seq_correct,
             "token_correct": correct.sum(-1).float() / counts.clamp_min(1)}
    return lm + 0.5 * q, stats
