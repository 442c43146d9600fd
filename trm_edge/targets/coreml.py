"""Core ML: an ML Program `.mlpackage`. Converted anywhere; run only on macOS (elsewhere its parity reads
the package's weights back into PyTorch)."""
from __future__ import annotations

import sys

import numpy as np

from ..artifact import inside
from ..errors import UnsupportedOnHost
from .base import Target


def runtime(r):
    if sys.platform != "darwin":
        raise UnsupportedOnHost("Core ML prediction needs macOS (coremltools cannot run .mlpackage models on "
                                f"{sys.platform}); the artifact was converted and validated, but not executed here")
    import coremltools as ct

    model = ct.models.MLModel(str(inside(r.folder, r.meta.model_file)))
    in_names = [i.name for i in r.meta.inputs]
    out_names = [o.name for o in r.meta.outputs]
    r.new_state = model.make_state   # used by stateful artifacts: a fresh y/z state per solve

    def call(arrays, state=None):
        feeds = dict(zip(in_names, arrays))
        res = model.predict(feeds) if state is None else model.predict(feeds, state=state)
        return [np.asarray(res[k]) for k in out_names]

    return call


TARGET = Target(
    name="coreml", model_file="model.mlpackage", modes=("step", "unrolled", "stateful"),
    precisions=("none", "fp16", "int8", "int4", "palette4", "palette6"),
    note="ML Program; int8 is weight-only (activation calibration needs macOS prediction); "
         "int4: 4-bit weight blocks (iOS 18); palette4/6: k-means palettized weights; stateful: y/z kept as Core ML states (iOS 18)",
    runtime=runtime,
    runtime_module="coremltools", weights_readback=True,
)
