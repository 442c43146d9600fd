"""Adaptive computation time (ACT) wrapper: deep supervision with a learned halting head."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .trm import TRM, Carry, StepOutput


@dataclass
class ACTState:
    """Per-sequence state of a batch that flows through supervision steps."""

    carry: Carry
    steps: torch.Tensor       # [B] int, supervision steps taken on the current puzzle
    halted: torch.Tensor      # [B] bool, row finished: replace its puzzle next call
    inputs: torch.Tensor
    labels: torch.Tensor
    puzzle_identifiers: torch.Tensor


class ACTModel(nn.Module):
    """Runs one supervision step per call and decides which rows halt (official ACT wrapper)."""

    def __init__(self, inner: TRM, shard: tuple[int, int] | None = None) -> None:
        """`shard=(rank, world)`: this process holds one slice of a global batch; exploration draws are made
        for the global batch and sliced, so data-parallel runs explore exactly as one process would."""
        super().__init__()
        self.inner = inner
        self.shard = shard

    @property
    def config(self):
        return self.inner.config

    def initial_state(self, inputs: torch.Tensor, labels: torch.Tensor, puzzle_identifiers: torch.Tensor,
                      dtype: torch.dtype = torch.float32) -> ACTState:
        b = inputs.shape[0]
        return ACTState(
            carry=self.inner.initial_carry(b, inputs.device, dtype),
            steps=torch.zeros(b, dtype=torch.int32, device=inputs.device),
            halted=torch.ones(b, dtype=torch.bool, device=inputs.device),
            inputs=torch.empty_like(inputs), labels=torch.empty_like(labels),
            puzzle_identifiers=torch.empty_like(puzzle_identifiers),
        )

    def forward(self, state: ACTState, inputs: torch.Tensor, labels: torch.Tensor,
                puzzle_identifiers: torch.Tensor) -> tuple[ACTState, StepOutput]:
        """Swap fresh puzzles into halted rows, run one step, update halting."""
        halted = state.halted
        carry = self.inner.reset_carry(halted, state.carry)
        steps = torch.where(halted, torch.zeros_like(state.steps), state.steps)

        def pick(new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
            return torch.where(halted.view((-1,) + (1,) * (new.ndim - 1)), new, old)

        cur_inputs, cur_labels = pick(inputs, state.inputs), pick(labels, state.labels)
        cur_ids = pick(puzzle_identifiers, state.puzzle_identifiers)
        out = self.inner(carry, cur_inputs, cur_ids)

        with torch.no_grad():
            steps = steps + 1
            max_steps = self.config.halt_max_steps
            new_halted = steps >= max_steps
            if self.training and max_steps > 1:
                if self.config.no_ACT_continue:
                    new_halted = new_halted | (out.q_halt > 0)
                else:
                    new_halted = new_halted | (out.q_halt > out.q_continue)
                min_steps = self._explore(out.q_halt, steps)
                new_halted = new_halted & (steps >= min_steps)
        return ACTState(out.carry, steps, new_halted, cur_inputs, cur_labels, cur_ids), out

    def _global_rows(self, full: torch.Tensor) -> torch.Tensor:
        rank, world = self.shard or (0, 1)
        rows = full.shape[0] // world
        return full[rank * rows:(rank + 1) * rows]

    def _explore(self, q_halt: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """Random minimum step counts (0 where a row does not explore), drawn for the whole global batch
        and sliced to this shard: data-parallel ranks explore exactly as one process would."""
        world = (self.shard or (0, 1))[1]
        n = q_halt.shape[0] * world
        explore = self._global_rows(torch.rand((n,), dtype=q_halt.dtype, device=q_halt.device))
        low_high = self._global_rows(torch.randint(2, self.config.halt_max_steps + 1, (n,), dtype=steps.dtype,
                                                   device=steps.device))
        return (explore < self.config.halt_exploration_prob) * low_high
