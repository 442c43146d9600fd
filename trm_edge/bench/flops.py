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


def step_gemm_shapes(model: TRM, batch: int = 1) -> list[tuple[int, int, int]]:
    """(m, k, n) of the matmuls one step really runs at `batch` (rows = batch x positions)."""
    cfg = model.config
    rows = batch * cfg.total_len
    shapes = []
    for name, module in model.L_level.layers[0].named_modules():
        weight = getattr(module, "weight", None)
        if weight is not None and weight.ndim == 2:
            n, k = weight.shape
            m = batch * cfg.hidden_size if "mlp_t" in name else rows   # token mixing runs over the sequence axis
            shapes.append((m, k, n))
    return sorted(set(shapes))


def measure_peak_gflops(threads: int, device: str = "cpu", size: int = 1024, dtype=torch.float32,
                        repeats: int = 5, shapes: list[tuple[int, int, int]] | None = None,
                        max_rounds: int = 12) -> float:
    """The machine's own matmul throughput in this run: the best over `shapes` (default one size^3 GEMM),
    re-measured in rounds until the best stops improving by more than 2%."""
    import time

    if device == "cpu":
        torch.set_num_threads(threads)
    shapes = shapes or [(size, size, size)]
    pairs = [(torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype))
             for m, k, n in shapes]
    best_rate, stale = 0.0, 0
    for _ in range(max_rounds):
        round_best = 0.0
        for a, b in pairs:
            calls = max(1, int(2e8 // (2 * a.shape[0] * a.shape[1] * b.shape[1])))   # ~0.2 GFLOP per timing
            for _ in range(repeats):
                if device == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                for _ in range(calls):
                    a @ b
                if device == "cuda":
                    torch.cuda.synchronize()
                rate = 2 * a.shape[0] * a.shape[1] * b.shape[1] * calls / (time.perf_counter() - t0) / 1e9
                round_best = max(round_best, rate)
        stale = stale + 1 if round_best <= best_rate * 1.02 else 0
        best_rate = max(best_rate, round_best)
        if stale >= 2:
            break
    return best_rate
