"""ExecuTorch: a `.pte` program, XNNPACK-delegated (or Core ML first with --delegate coreml)."""
from __future__ import annotations

import numpy as np

from ..artifact import inside
from ..errors import UnsupportedOnHost
from .base import Option, RequestError, Target

_PROGRAM_LOADED = False   # ExecuTorch's threadpool may only be resized before the first program loads


def runtime(r):
    global _PROGRAM_LOADED
    import torch
    from executorch.runtime import Runtime

    rt = Runtime.get()
    missing = [b for b in r.meta.extra.get("backends", []) if b not in rt.backend_registry.registered_backend_names]
    if missing:
        where = " (Core ML runs on iOS/macOS only)" if "CoreMLBackend" in missing else ""
        raise UnsupportedOnHost(f"this program needs {', '.join(missing)}, which this host's ExecuTorch "
                                f"runtime does not have{where}; the program was lowered and written, but not run here")
    if r.threads:
        torch.set_num_threads(r.threads)
        _size_threadpool(r.threads)
    method = rt.load_program(str(inside(r.folder, r.meta.model_file))).load_method("forward")
    _PROGRAM_LOADED = True

    def call(arrays, state=None):
        outs = method.execute([torch.from_numpy(np.ascontiguousarray(a)) for a in arrays])
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
    if options.get("delegate") == "coreml" and precision == "int8-static":
        raise RequestError("executorch with --delegate coreml supports int8 as weight-only quantization "
                           "(Core ML's linear quantizer), not static activations (--calibration)")


TARGET = Target(
    name="executorch", model_file="model.pte", modes=("step", "unrolled"),
    precisions=("none", "fp16", "int8", "int8-static"),
    note="XNNPACK delegate, or --delegate coreml (Core ML first, XNNPACK for the rest); "
         "int8 through PT2E (XNNPACK) or Core ML weight quantization",
    exporter="trm_edge.export.executorch_target:export", runtime="trm_edge.targets.executorch:runtime",
    runtime_module="executorch.runtime",
    options=(Option("delegate", "ExecuTorch backend: xnnpack (CPU, Android and iOS) or coreml (Core ML, iOS/macOS; "
                                "XNNPACK takes what Core ML cannot)", "xnnpack", ("xnnpack", "coreml")),),
    check=_check,
)
