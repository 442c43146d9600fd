"""FLOPs and bytes of one supervision step, counted on the real graph (not from a formula)."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..export.graphs import StepGraph, example_step_inputs
from ..model.trm import TRM


def step_cost(model: TRM) -> dict[str, float]:
    """FLOPs of one step at batch 1 (matmul FLOPs as counted by torch's FlopCounterMode) and weight bytes."""
    graph = StepGraph(model).eval()
    example = example_step_inputs(model, 1)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        graph(*example)
    flops = float(counter.get_total_flops())
    weight_bytes = float(sum(p.numel() * 4 for p in model.parameters()))
    state_bytes = float(2 * example[2].numel() * 4)
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
