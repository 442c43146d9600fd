"""FLOPs and bytes of one supervision step, counted on the real graph (not from a formula)."""
from __future__ import annotations

from typing import Callable

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


def peak_gemm_shapes(model: TRM, large_batch: int) -> list[tuple[int, int, int]]:
    """The shapes a GEMM peak is measured on: the step's at batch 1 and at the large batch. The peak is the
    fastest of them: a large M feeds the kernel better on a small model, but on a paper-size one its rows fall out
    of cache and run slower than batch 1's."""
    return sorted(set(step_gemm_shapes(model, 1) + step_gemm_shapes(model, large_batch)))


Gemm = tuple[float, Callable[[], object]]   # (FLOPs of one call, the call)


def _torch_gemms(shapes: list[tuple[int, int, int]], device: str, dtype) -> list[Gemm]:
    pairs = [(torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype))
             for m, k, n in shapes]
    return [(2.0 * a.shape[0] * a.shape[1] * b.shape[1], lambda a=a, b=b: a @ b) for a, b in pairs]


def _onnxruntime_gemms(shapes: list[tuple[int, int, int]], threads: int) -> list[Gemm]:
    """One MatMul graph per shape, the weight a constant as in an exported step: ONNX Runtime's MLAS GEMM."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    gemms = []
    for m, k, n in shapes:
        weight = numpy_helper.from_array(np.random.randn(k, n).astype(np.float32), "w")
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "w"], ["c"])], "gemm",
                                  [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
                                  [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])], [weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        feed = {"a": np.random.randn(m, k).astype(np.float32)}
        gemms.append((2.0 * m * k * n, lambda s=session, f=feed: s.run(None, f)))
    return gemms


def _best_rate(gemms: list[Gemm], repeats: int, max_rounds: int, sync: Callable[[], None]) -> float:
    """GFLOP/s of the fastest call, re-measured in rounds until the best stops improving by more than 2%."""
    import time

    best_rate, stale = 0.0, 0
    for _ in range(max_rounds):
        round_best = 0.0
        for flops, call in gemms:
            calls = max(1, int(2e8 // flops))   # ~0.2 GFLOP per timing
            for _ in range(repeats):
                sync()
                t0 = time.perf_counter()
                for _ in range(calls):
                    call()
                sync()
                round_best = max(round_best, flops * calls / (time.perf_counter() - t0) / 1e9)
        stale = stale + 1 if round_best <= best_rate * 1.02 else 0
        best_rate = max(best_rate, round_best)
        if stale >= 2:
            break
    return best_rate


def measure_peak_gflops(threads: int, device: str = "cpu", size: int = 1024, dtype=torch.float32,
                        repeats: int = 5, shapes: list[tuple[int, int, int]] | None = None,
                        max_rounds: int = 12) -> float:
    """torch's matmul throughput in this run: the best over `shapes` (default one size^3 GEMM)."""
    if device == "cpu":
        torch.set_num_threads(threads)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return _best_rate(_torch_gemms(shapes or [(size, size, size)], device, dtype), repeats, max_rounds, sync)


def _torch_int8_gemms(shapes: list[tuple[int, int, int]]) -> list[Gemm]:
    """torch._int_mm (oneDNN, VNNI where the CPU has it): int8 x int8 -> int32, counted as 2mkn operations."""
    pairs = [(torch.randint(-128, 127, (m, k), dtype=torch.int8), torch.randint(-128, 127, (k, n), dtype=torch.int8))
             for m, k, n in shapes if m > 16 and k % 8 == 0 and n % 8 == 0]   # the kernel's shape rules
    return [(2.0 * a.shape[0] * a.shape[1] * b.shape[1], lambda a=a, b=b: torch._int_mm(a, b)) for a, b in pairs]


def _onnxruntime_int8_gemms(shapes: list[tuple[int, int, int]], threads: int) -> list[Gemm]:
    """ONNX Runtime's MatMulInteger (MLAS u8 x s8), the op its dynamic int8 graphs run, the weight a constant."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    gemms = []
    for m, k, n in shapes:
        weight = numpy_helper.from_array(np.random.randint(-128, 127, (k, n)).astype(np.int8), "w")
        graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "w"], ["c"])], "gemm",
                                  [helper.make_tensor_value_info("a", TensorProto.UINT8, [m, k])],
                                  [helper.make_tensor_value_info("c", TensorProto.INT32, [m, n])], [weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        feed = {"a": np.random.randint(0, 255, (m, k)).astype(np.uint8)}
        gemms.append((2.0 * m * k * n, lambda s=session, f=feed: s.run(None, f)))
    return gemms


def cpu_precision_peaks(threads: int, shapes: list[tuple[int, int, int]] | None = None) -> dict[str, tuple[float, str]]:
    """{precision: (the fastest GEMM any installed runtime gives on the step's shapes, G(FL)OP/s; whose)} for the
    precisions rows compute in: fp32, bf16 (torch) and int8 (torch's oneDNN and ONNX Runtime's MLAS)."""
    shapes = shapes or [(1024, 1024, 1024)]
    peaks = {"fp32": cpu_gemm_peak(threads, shapes)}
    torch.set_num_threads(threads)
    peaks["bf16"] = (_best_rate(_torch_gemms(shapes, "cpu", torch.bfloat16), 3, 6, lambda: None),
                     "torch matmul bf16 (oneDNN)")
    int8 = {"torch._int_mm (oneDNN)": _best_rate(_torch_int8_gemms(shapes), 3, 6, lambda: None)}
    try:
        int8["onnxruntime MatMulInteger (MLAS)"] = _best_rate(_onnxruntime_int8_gemms(shapes, threads), 3, 6,
                                                              lambda: None)
    except ImportError:
        pass
    best = max(int8, key=int8.get)
    peaks["int8"] = (int8[best], best)
    return peaks


def cpu_gemm_peak(threads: int, shapes: list[tuple[int, int, int]] | None = None) -> tuple[float, str]:
    """The fastest fp32 GEMM any installed runtime offers on the step's shapes, and whose it is: torch's
    (MKL / oneDNN) and ONNX Runtime's (MLAS). A row measured faster than every one of them is capped at 100%."""
    shapes = shapes or [(1024, 1024, 1024)]
    rates = {"torch matmul (MKL/oneDNN)": measure_peak_gflops(threads, shapes=shapes)}
    try:
        rates["onnxruntime MatMul (MLAS)"] = _best_rate(_onnxruntime_gemms(shapes, threads), 5, 12, lambda: None)
    except ImportError:   # the torch-only install has no ONNX Runtime
        pass
    library = max(rates, key=rates.get)
    return rates[library], library
