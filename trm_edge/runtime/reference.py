"""The PyTorch reference: the trained model driven by the host loop."""
from __future__ import annotations

import numpy as np
import torch

from ..model.trm import TRM, Carry
from .loop import SolveResult, StepFn, solve


def torch_step(model: TRM, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
               state_dtype: torch.dtype | None = None, forward=None) -> StepFn:
    """A step function around one supervision step of `model`: numpy or tensors in, tensors on `device` out
    (the host loop keeps them there). `state_dtype` rounds y and z between steps (float16: what a model
    keeping them as Core ML states stores). `forward` replaces the model's call (e.g. a compiled one)."""
    forward = forward or model

    @torch.no_grad()
    def step(inputs, ids, y, z):
        with torch.autocast(device_type=torch.device(device).type, dtype=dtype, enabled=dtype != torch.float32):
            out = forward(Carry(torch.as_tensor(y, device=device), torch.as_tensor(z, device=device)),
                          torch.as_tensor(inputs, device=device), torch.as_tensor(ids, device=device))
        y, z = out.carry.y.float(), out.carry.z.float()
        if state_dtype is not None:
            y, z = y.to(state_dtype).float(), z.to(state_dtype).float()
        return y, z, out.logits.float(), out.q_halt.float()

    return step


def initial_state(model: TRM, batch: int) -> tuple[np.ndarray, np.ndarray]:
    carry = model.initial_carry(batch, torch.device("cpu"))
    return carry.y.numpy(), carry.z.numpy()


EVAL_BATCH = 256   # puzzles per batch when PyTorch solves many (evaluate, parity)


@torch.no_grad()
def solve_with_model(model: TRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray, max_steps: int | None = None,
                     halting: str = "fixed", device: str | torch.device = "cpu", batch_size: int = EVAL_BATCH,
                     state_dtype: torch.dtype | None = None, on_step=None) -> SolveResult:
    """Solve puzzles with the PyTorch model, in batches, keeping tensors on `device` between steps (`on_step`: see
    loop.solve, called for every step of every batch)."""
    max_steps = max_steps or model.config.halt_max_steps
    results = []
    for start in range(0, len(inputs), batch_size):
        x = inputs[start:start + batch_size]
        ids = puzzle_identifiers[start:start + batch_size]
        carry = model.initial_carry(len(x), torch.device(device))
        results.append(solve(torch_step(model, device, state_dtype=state_dtype), carry.y, carry.z, x, ids, max_steps,
                             halting, on_step))
    return SolveResult.concat(results)
