"""TFLite / LiteRT: converted by litert-torch in its own environment, run by the LiteRT interpreter."""
from __future__ import annotations

from ..artifact import inside
from .base import Target


def runtime(r):
    from ai_edge_litert.interpreter import Interpreter

    from ..quiet import quiet_native

    interp = Interpreter(model_path=str(inside(r.folder, r.meta.model_file)), num_threads=r.threads or 1)
    if "tflite_signatures" in r.meta.extra:   # --recursion net: one signature per method
        methods = {name: (interp.get_signature_runner(name), keys["inputs"], keys["outputs"])
                   for name, keys in r.meta.extra["tflite_signatures"].items()}
    else:
        sig = r.meta.extra.get("tflite_signature", {})
        methods = {"forward": (interp.get_signature_runner(), sig.get("inputs", [i.name for i in r.meta.inputs]),
                               sig.get("outputs", [o.name for o in r.meta.outputs]))}

    first = set(methods)   # LiteRT prints an INFO line from C++ when a method first applies its XNNPACK delegate

    def call(arrays, state=None, method="forward"):
        runner, in_keys, out_keys = methods[method]
        if method in first:
            first.discard(method)
            with quiet_native():
                res = runner(**{k: a for k, a in zip(in_keys, arrays)})
        else:
            res = runner(**{k: a for k, a in zip(in_keys, arrays)})
        return [res[k] for k in out_keys]

    return call


TARGET = Target(
    name="tflite", model_file="model.tflite", modes=("step", "unrolled", "net"), precisions=("none", "int8"),
    note="LiteRT via litert-torch in its own environment; int8 is dynamic-range; --recursion net: one "
         "signature per method, the host runs the step's T x (n+1) net calls (XNNPACK packs the weights once)",
    runtime=runtime,
    runtime_module="ai_edge_litert.interpreter",
)
