"""ExecuTorch: a `.pte` program, XNNPACK-delegated (or Core ML first with --delegate coreml)."""
from __future__ import annotations

import numpy as np

from ..artifact import inside
from ..errors import UnsupportedOnHost
from ..recursion import mode as recursion_mode
from ..recursion.net import NetProgram
from .base import Option, RequestError, Target
from .precision import TORCHAO_INT4, Precision

_PROGRAM_LOADED = False   # ExecuTorch's threadpool may only be resized before the first program loads


def runtime(r):
    global _PROGRAM_LOADED
    import torch
    from executorch.runtime import Runtime

    from ..quiet import quiet_native

    with quiet_native():   # its start-up prints cpuinfo probing lines from C++
        rt = Runtime.get()
    missing = [b for b in r.meta.extra.get("backends", []) if b not in rt.backend_registry.registered_backend_names]
    if missing:
        where = " (Core ML runs on iOS/macOS only)" if "CoreMLBackend" in missing else ""
        raise UnsupportedOnHost(f"this program needs {', '.join(missing)}, which this host's ExecuTorch "
                                f"runtime does not have{where}; the program was lowered and written, but not run here")
    if r.threads:
        torch.set_num_threads(1)   # torch only copies inputs and outputs here; its OpenMP workers, spinning
        with quiet_native():       # after each copy, would take the cores XNNPACK's own threadpool runs on
            _size_threadpool(r.threads)
    with quiet_native():
        program = rt.load_program(str(inside(r.folder, r.meta.model_file)))
        names = NetProgram.from_extra(r.meta.extra).methods if r.mode.net_methods else ["forward"]
        methods = {name: program.load_method(name) for name in names}
    _PROGRAM_LOADED = True

    def call(arrays, state=None, method="forward"):
        outs = methods[method].execute([torch.from_numpy(np.ascontiguousarray(a)) for a in arrays])
        return [o.numpy() for o in outs]

    return call


def _size_threadpool(threads: int) -> None:
    """Size ExecuTorch's own threadpool (XNNPACK runs on it; torch.set_num_threads does not reach it)."""
    from executorch.extension.pybindings.portable_lib import _threadpool_get_thread_count, _unsafe_reset_threadpool

    if _threadpool_get_thread_count() == threads:
        return
    if _PROGRAM_LOADED:   # resizing under a loaded program crashes the process
        raise RuntimeError(f"ExecuTorch's threadpool already runs {_threadpool_get_thread_count()} threads in this "
                           f"process and cannot be resized to {threads} after a program was loaded; "
                           "use a fresh process per thread count")
    _unsafe_reset_threadpool(threads)


def _check(recursion: str, precision: str, options: dict) -> None:
    if recursion_mode(recursion).net_methods and (options.get("delegate") == "coreml" or precision == Precision.INT8_STATIC):
        raise RequestError("executorch --recursion net is for the XNNPACK delegate at fp32, fp16, dynamic int8 or int4 "
                           "(its point is one packed copy of the weights; static int8 calibrates whole steps)")
    if options.get("delegate") == "coreml" and precision == Precision.INT4:
        raise RequestError("executorch int4 is XNNPACK's 4-bit weights: use --delegate xnnpack (the default)")
    if options.get("delegate") == "coreml" and precision == Precision.INT8_STATIC:
        raise RequestError("executorch with --delegate coreml supports int8 as weight-only quantization "
                           "(Core ML's linear quantizer), not static activations (--calibration)")


TARGET = Target(
    name="executorch", model_file="model.pte", modes=("step", "unrolled", "net"),
    precisions=("none", "fp16", "int8", "int8-static", "int4"),
    note="XNNPACK delegate, or --delegate coreml (Core ML first, XNNPACK for the rest); "
         "int8 through PT2E (XNNPACK) or Core ML weight quantization; int4: 4-bit weight blocks (torchao 8da4w); --recursion net: one net call per "
         "execute, the host runs the step's T x (n+1) calls (XNNPACK packs the weights once: large models)",
    runtime=runtime,
    runtime_module="executorch.runtime",
    android_app=True,
    options=(Option("delegate", "ExecuTorch backend: xnnpack (CPU, Android and iOS) or coreml (Core ML, iOS/macOS; "
                                "XNNPACK takes what Core ML cannot)", "xnnpack", ("xnnpack", "coreml")),),
    check=_check,
    int4_grid=TORCHAO_INT4,
)
