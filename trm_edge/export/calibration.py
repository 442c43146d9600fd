"""Calibration data for static int8: real (inputs, y, z) visited along the recursion on task puzzles.

Activation ranges drift across supervision steps, so samples are taken at every step, not just the first.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

from ..data.puzzles import PuzzleSet
from ..model.trm import TRM


@torch.no_grad()
def along_trajectories(model: TRM, data: PuzzleSet, puzzles: int, batch: int,
                       steps: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor, Any]]:
    """Every supervision step of the first `puzzles` puzzles, `batch` at a time: each step's inputs and carry,
    yielded before the model takes the step (so hooks on the model see every step's layer inputs)."""
    steps = steps or model.config.halt_max_steps
    for start in range(0, puzzles, batch):
        end = min(start + batch, puzzles)
        x = torch.as_tensor(data.inputs[start:end], dtype=torch.int32)
        ids = torch.as_tensor(data.puzzle_identifiers[start:end], dtype=torch.int32)
        carry = model.initial_carry(len(x))
        for _ in range(steps):
            yield x, ids, carry
            carry = model(carry, x, ids).carry


def step_trajectories(model: TRM, data: PuzzleSet, count: int, batch: int = 1,
                      steps: int | None = None) -> list[dict[str, np.ndarray]]:
    """Up to `count` step-input samples (batched as exported): each puzzle contributes one per supervision step."""
    steps = steps or model.config.halt_max_steps
    n = max(batch, min(len(data), -(-count // steps) * batch))
    samples = [{"inputs": x.numpy(), "puzzle_identifiers": ids.numpy(), "y": carry.y.numpy().copy(),
                "z": carry.z.numpy().copy()}
               for x, ids, carry in along_trajectories(model, data, n // batch * batch, batch, steps)]
    return samples[:count]


def sample_reader(samples: list[dict[str, np.ndarray]]):
    """ONNX Runtime's calibration reader over step-input samples (its quantizers pull them one at a time)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(samples)

        def get_next(self):
            return next(self.it, None)

    return Reader()


def unrolled_samples(data: PuzzleSet, count: int, batch: int = 1) -> list[dict[str, np.ndarray]]:
    out = []
    for start in range(0, min(len(data), count * batch) - batch + 1, batch):
        out.append({"inputs": data.inputs[start:start + batch].astype(np.int32),
                    "puzzle_identifiers": data.puzzle_identifiers[start:start + batch].astype(np.int32)})
    return out
