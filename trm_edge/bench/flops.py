"""FLOPs and bytes of one supervision step, counted on the real graph (not from a formula)."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..model.trm import TRM


def step_cost(model: TRM) -> dict[str, float]:
    """FLOPs of one step at batch 1 (matmul FLOPs as counted by torch's FlopCounterMode) and weight bytes."""
    carry = model.initial_carry(1)
    tokens = torch.ones(1, model.config.seq_len, dtype=torch.long)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.infer_step(tokens, torch.zeros(1, dtype=torch.long), carry.y, carry.z)
    flops = float(counter.get_total_flops())
    weight_bytes = float(sum(p.numel() * 4 for p in model.parameters()))
    state_bytes = float(2 * carry.y.numel() * 4)
    return {"step_flops": flops, "weight_bytes_fp32": weight_bytes, "state_bytes": state_bytes}


def measure_peak_gflops(threads: int, device: str = "cpu", size: int = 1024, dtype=torch.float32,
                        repeats: int = 5) -> float:
    """The machine's own matmul throughput in this run: best of `repeats` size^3 GEMMs."""
    import time

    if device == "cpu":
        torch.set_num_threads(threads)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best / 1e9
