"""Runs inside the litert-torch environment: rebuild the graph from a weights-only job file, convert it to
`.tflite` and quantize it.

Prints one JSON line: notes, tool versions, and each signature's input/output keys in our order (one
signature for a step or unrolled graph, one per method for `--recursion net`).
"""
from __future__ import annotations

import os
import sys
from importlib.metadata import version


def main(job_path: str, out_path: str) -> None:
    import torch

    from trm_edge.export.graphs import NET_METHODS, build_graph, net_call_graphs
    from trm_edge.recursion import mode
    from trm_edge.model import TRM, TRMConfig
    from trm_edge.subproc import emit_result

    job = torch.load(job_path, weights_only=True)
    model = TRM(TRMConfig.from_dict(job["config"]))
    model.load_state_dict(job["state_dict"])
    model.eval()
    example = tuple(job["example"])
    if mode(job["recursion"]).net_methods:   # one signature per method: the host runs the step's net calls
        graphs = {name: (graph, ex, NET_METHODS[name][0]) for name, (graph, ex)
                  in net_call_graphs(model, example[0].shape[0]).items()}
    else:
        graph = build_graph(mode(job["recursion"]).graph, model, example[0].shape[0]).module
        graphs = {None: (graph, example, job["input_names"])}
    notes = _convert(graphs, out_path, job["quantize"])
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=out_path)
    signatures = interp.get_signature_list()
    keys = {}
    for name, (graph, ex, input_names) in graphs.items():
        sig_name = name or next(iter(signatures))
        keys[sig_name] = _keys(interp, sig_name, signatures[sig_name], graph, ex, input_names)
    versions = {"litert-torch": version("litert-torch"), "ai-edge-litert": version("ai-edge-litert")}
    emit_result({"notes": notes, "versions": versions, "signatures": keys})


def _convert(graphs: dict, out_path: str, quantize: str) -> list[str]:
    """Convert every graph as a signature of one model file (shared tensors stay shared); quantize it."""
    from trm_edge.targets.precision import Precision
    import litert_torch

    if None in graphs:
        graph, ex, _ = graphs[None]
        model = litert_torch.convert(graph, ex)
    else:
        converter = None
        for name, (graph, ex, _) in graphs.items():
            converter = (converter or litert_torch).signature(name, graph, ex)
        model = converter.convert()
    float_path = out_path if quantize == Precision.FP32 else out_path + ".float.tflite"
    model.export(float_path)
    if quantize == Precision.FP32:
        return []
    if quantize != Precision.INT8:
        raise SystemExit(f"unsupported quantization {quantize}")
    from ai_edge_quantizer import quantizer, recipe

    qt = quantizer.Quantizer(float_path)
    qt.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    qt.quantize().export_model(out_path, overwrite=True)
    os.remove(float_path)
    return ["dynamic-range int8 (ai-edge-quantizer dynamic_wi8_afp32): int8 weights, fp32 activations"]


def _keys(interp, sig_name: str, sig: dict, graph, example: tuple, input_names) -> dict:
    """The signature's input keys in our order, and its output keys matched to our outputs by value."""
    import torch

    in_keys = _order(sig["inputs"], list(input_names))
    outs = interp.get_signature_runner(sig_name)(**{k: t.numpy() for k, t in zip(in_keys, example)})
    with torch.no_grad():
        ref = graph(*example)
    out_keys: list[str] = []
    for r in ref:
        match = [k for k, v in outs.items() if tuple(v.shape) == tuple(r.shape) and k not in out_keys]
        out_keys.append(min(match, key=lambda k: float(abs(outs[k] - r.numpy()).max())))
    return {"inputs": in_keys, "outputs": out_keys}


def _order(keys: list[str], names: list[str]) -> list[str]:
    if set(names) <= set(keys):
        return list(names)
    return sorted(keys, key=lambda k: int("".join(ch for ch in k if ch.isdigit()) or 0))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
