"""ONNX: the dynamo exporter, run by ONNX Runtime's CPU execution provider."""
from __future__ import annotations

import numpy as np

from ..artifact import inside
from .base import Option, RequestError, Target

INT8_SCHEMES = ("dynamic", "dynamic-keep-mlp-t", "weights")


def runtime(r):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if r.threads:
        opts.intra_op_num_threads = r.threads
        opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(inside(r.folder, r.meta.model_file)), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in r.meta.inputs]
    return lambda arrays, state=None: sess.run(None, dict(zip(names, [np.asarray(a) for a in arrays])))


def _check(recursion: str, precision: str, options: dict) -> None:
    if options.get("int8-scheme", "dynamic") != "dynamic" and precision != "int8":
        raise RequestError(f"--int8-scheme {options['int8-scheme']} applies to --quantize int8 without --calibration "
                           f"(got {precision})")


TARGET = Target(
    name="onnx", model_file="model.onnx", modes=("step", "unrolled", "loop"),
    precisions=("none", "fp16", "int8", "int8-static"),
    note="loop: the step graph inside an ONNX Loop with in-graph halting (batch 1)",
    exporter="trm_edge.export.onnx_target:export", runtime="trm_edge.targets.onnx:runtime",
    runtime_module="onnxruntime",
    options=(Option("ort", "also write the .ort mobile format (ONNX Runtime's CPU EP on ARM)"),
             Option("int8-scheme", "with --quantize int8: dynamic (MatMulInteger, activations quantized per tensor "
                                   "at run time), dynamic-keep-mlp-t (the same with the token-mixing MLP kept fp32) or "
                                   "weights (int8 weights dequantized at load, fp32 math); on the 9x9 model only the "
                                   "last two stay within 1 point (bench/int8_sensitivity.py)",
                    "dynamic", INT8_SCHEMES)),
    check=_check,
)
