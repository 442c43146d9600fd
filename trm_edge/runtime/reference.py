"""The PyTorch reference: the trained model driven by the host loop."""
from __future__ import annotations

import numpy as np
import torch

from ..model.trm import TRM, Carry
from ..recursion.step import MODE as step_mode
from ..host_loop import Halting, ManyPuzzles, SolveResult, StepFn, solve


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


class TorchRunner:
    """The PyTorch model behind the interface of an exported artifact's runner (`batch`, `initial_state`,
    `step`, `solve`, `mode`), so the solver, parity and the bench time and drive both the same way.
    Tensors stay on `device` between steps; answers come back as numpy."""

    mode = step_mode   # the host runs the loop, one supervision step per call

    def __init__(self, model: TRM, device: str | torch.device = "cpu", batch: int = EVAL_BATCH,
                 dtype: torch.dtype = torch.float32, state_dtype: torch.dtype | None = None, forward=None) -> None:
        self.model, self.device, self.batch = model, torch.device(device), batch
        self._step = torch_step(model, self.device, dtype, state_dtype, forward)

    @property
    def halt_max_steps(self) -> int:
        return self.model.config.halt_max_steps

    def initial_state(self):
        carry = self.model.initial_carry(self.batch, self.device)
        return carry.y, carry.z

    def step(self, inputs, ids, y, z):
        return self._step(inputs, ids, y, z)

    def synchronize(self) -> None:
        """Wait for queued device work (timing on CUDA)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def solve(self, inputs: np.ndarray, puzzle_identifiers: np.ndarray, halting: "str | Halting" = "fixed",
              max_steps: int | None = None, on_step=None) -> SolveResult:
        """`batch` puzzles at a time; a short last batch runs at its own size (`on_step`: see loop.solve). With
        early halting and more puzzles than `batch`, a halted row takes the next puzzle (continuous batching)."""
        max_steps = max_steps or self.halt_max_steps
        halting = Halting.parse(halting)

        def one_batch(x, ids, seen):
            carry = self.model.initial_carry(len(x), self.device)
            return solve(self._step, carry.y, carry.z, x, ids, max_steps, halting, seen)

        many = ManyPuzzles(self.batch, self._step, self.initial_state, one_batch, pad=False, shrink=True)
        return many.solve(inputs, puzzle_identifiers, max_steps, halting, on_step)


def solve_with_model(model: TRM, inputs: np.ndarray, puzzle_identifiers: np.ndarray, max_steps: int | None = None,
                     halting: str = "fixed", device: str | torch.device = "cpu", batch_size: int = EVAL_BATCH,
                     state_dtype: torch.dtype | None = None, on_step=None) -> SolveResult:
    """Solve puzzles with the PyTorch model, in batches, keeping tensors on `device` between steps (`on_step`: see
    loop.solve, called for every step of every batch)."""
    runner = TorchRunner(model, device, batch_size, state_dtype=state_dtype)
    return runner.solve(inputs, puzzle_identifiers, halting, max_steps, on_step)
