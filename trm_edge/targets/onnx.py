"""ONNX: the dynamo exporter, run by ONNX Runtime's CPU execution provider."""
from __future__ import annotations

import numpy as np

from ..artifact import inside
from .base import Option, RequestError, Target
from .precision import ORT_INT4, Precision

INT8_SCHEMES = ("dynamic", "dynamic-keep-mlp-t", "weights")
WEIGHTS_ONLY = INT8_SCHEMES[2]   # int8 weights dequantized when the model loads: the math stays fp32


def gemm_precision(extra: dict) -> Precision | None:
    """An int8 artifact of the weights-only scheme computes in fp32 (its GEMMs are MLAS's fp32 ones)."""
    return Precision.FP32 if extra.get("int8_scheme") == WEIGHTS_ONLY else None


def runtime(r):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if r.threads:
        opts.intra_op_num_threads = r.threads
        opts.inter_op_num_threads = 1
    model_path = inside(r.folder, r.meta.model_file)
    check_external_data(r.folder, model_path)
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in r.meta.inputs]
    return lambda arrays, state=None: sess.run(None, dict(zip(names, [np.asarray(a) for a in arrays])))


def check_external_data(folder, model_path) -> None:
    """Refuse tensors stored outside the artifact folder ourselves (a crafted model could name any file on
    disk as its weights). Needs the `onnx` package; without it ONNX Runtime's own path check applies."""
    try:
        import onnx
    except ImportError:
        return
    model = onnx.load(str(model_path), load_external_data=False)
    for tensor in _tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            inside(folder, location)


def _tensors(graph):
    """Every initializer and constant tensor of a graph and of its subgraphs (an ONNX Loop's body)."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _tensors(sub)


def _check(recursion: str, precision: str, options: dict) -> None:
    if options.get("int8-scheme") is not None and precision != Precision.INT8:
        raise RequestError(f"--int8-scheme {options['int8-scheme']} applies to --quantize int8 without --calibration "
                           f"(got {precision})")


TARGET = Target(
    name="onnx", model_file="model.onnx", modes=("step", "unrolled", "loop"),
    precisions=("none", "fp16", "int8", "int8-static", "int4"),
    note="loop: the step graph inside an ONNX Loop with in-graph halting (batch 1)",
    runtime=runtime,
    runtime_module="onnxruntime",
    browser=True,
    options=(Option("ort", "also write the .ort mobile format (ONNX Runtime's CPU EP on ARM)"),
             Option("int8-scheme", "with --quantize int8: weights (the default: int8 weights dequantized at load, "
                                   "fp32 math), dynamic (MatMulInteger, activations quantized per tensor at run time) "
                                   "or dynamic-keep-mlp-t (the same with the token-mixing MLP kept fp32); on the 9x9 "
                                   "model dynamic loses ~15 points on minimal puzzles, the other two stay within 1 "
                                   "(scripts/bench/int8_sensitivity.py)",
                    WEIGHTS_ONLY, INT8_SCHEMES)),
    check=_check,
    gemm_precision=gemm_precision,
    int4_grid=ORT_INT4,
)
