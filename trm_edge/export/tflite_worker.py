"""Runs inside the litert-torch environment: rebuild the graph from a weights-only job file, convert it to
`.tflite` and quantize it.

Prints one JSON line: notes, tool versions, and the signature's input/output keys in our order.
"""
from __future__ import annotations

import json
import sys
from importlib.metadata import version


def main(job_path: str, out_path: str) -> None:
    import torch
    import litert_torch

    from trm_edge.export.graphs import StepGraph, UnrolledGraph
    from trm_edge.model import TRM, TRMConfig

    job = torch.load(job_path, weights_only=True)
    model = TRM(TRMConfig.from_dict(job["config"]))
    model.load_state_dict(job["state_dict"])
    model.eval()
    graph = (StepGraph(model) if job["recursion"] == "step" else UnrolledGraph(model, job["steps"])).eval()
    example = tuple(job["example"])
    notes = []
    model = litert_torch.convert(graph, example)
    float_path = out_path if job["quantize"] == "none" else out_path + ".float.tflite"
    model.export(float_path)
    if job["quantize"] == "int8":
        from ai_edge_quantizer import quantizer, recipe

        qt = quantizer.Quantizer(float_path)
        qt.load_quantization_recipe(recipe.dynamic_wi8_afp32())
        qt.quantize().export_model(out_path, overwrite=True)
        import os

        os.remove(float_path)
        notes.append("dynamic-range int8 (ai-edge-quantizer dynamic_wi8_afp32): int8 weights, fp32 activations")
    elif job["quantize"] != "none":
        raise SystemExit(f"unsupported quantization {job['quantize']}")
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=out_path)
    sig = next(iter(interp.get_signature_list().values()))
    runner = interp.get_signature_runner()
    # Map our names to signature keys by position of the traced arguments / outputs.
    in_keys = _order(sig["inputs"], job["input_names"])
    feeds = {k: t.numpy() for k, t in zip(in_keys, example)}
    outs = runner(**feeds)
    with torch.no_grad():
        ref = graph(*example)
    out_keys = []
    for r in ref:
        match = [k for k, v in outs.items() if tuple(v.shape) == tuple(r.shape) and k not in out_keys]
        best = min(match, key=lambda k: float(abs(outs[k] - r.numpy()).max()))
        out_keys.append(best)
    versions = {"litert-torch": version("litert-torch"), "ai-edge-litert": version("ai-edge-litert")}
    print(json.dumps({"notes": notes, "versions": versions, "inputs": in_keys, "outputs": out_keys}))


def _order(keys: list[str], names: list[str]) -> list[str]:
    if set(names) <= set(keys):
        return list(names)
    return sorted(keys, key=lambda k: int("".join(ch for ch in k if ch.isdigit()) or 0))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
