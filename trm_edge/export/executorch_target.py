"""ExecuTorch export: torch.export -> (PT2E int8) -> XNNPACK-delegated `.pte`, with a delegation summary."""
from __future__ import annotations

from pathlib import Path

import torch

from .spec import ExportRequest, ExportResult
from .xnnpack_rewrite import drop_unused_constants, keep_fp16_inside, rewrite_for_xnnpack, share_identical_constants


def export(req: ExportRequest, folder: Path) -> ExportResult:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.devtools.backend_debug import get_delegation_info
    from executorch.exir import to_edge_transform_and_lower
    import executorch

    notes: list[str] = []
    graph, example = req.graph, req.example_inputs
    if req.quantize == "fp16":
        graph = _HalfWrapper(graph)
        notes.append("fp16 weights and compute inside the graph (XNNPACK fp16 kernels where the CPU has them); "
                     "inputs and outputs stay fp32")
    module = torch.export.export(graph, example, strict=False).module()
    rewrites = rewrite_for_xnnpack(module)
    if req.quantize == "fp16":
        rewrites["casts"] = keep_fp16_inside(module)
        notes.append(f"{rewrites['casts']} fp32 islands removed (casts, float scalars, SiLU's upcast): "
                     "RMSNorm and SiLU run in fp16 too")
    if any(rewrites.values()):
        notes.append(f"rewritten for XNNPACK: {rewrites['mean']} RMSNorm means as 4-D means, "
                     f"{rewrites['chunk']} SwiGLU chunks as slices (exact; keeps the step in one delegate)")
    if req.quantize.startswith("int8"):
        module = _quantize_pt2e(module, req, notes)
    exported = torch.export.export(module, example, strict=False)
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    dropped = drop_unused_constants(edge.exported_program())
    if dropped:
        notes.append(f"{dropped} constants read only inside the delegate dropped from the program")
    info = get_delegation_info(edge.exported_program().graph_module)
    summary = {"delegated_nodes": info.num_delegated_nodes, "non_delegated_nodes": info.num_non_delegated_nodes,
               "delegated_subgraphs": info.num_delegated_subgraphs}
    req.log(f"XNNPACK delegation: {info.num_delegated_nodes} ops delegated, "
            f"{info.num_non_delegated_nodes} left on portable kernels, {info.num_delegated_subgraphs} subgraphs")
    df = info.get_operator_delegation_dataframe() if hasattr(info, "get_operator_delegation_dataframe") else None
    per_op = {}
    if df is not None:
        for _, row in df.iterrows():
            per_op[str(row["op_type"])] = {"delegated": int(row["occurrences_in_delegated_graphs"]),
                                           "portable": int(row["occurrences_in_non_delegated_graphs"])}
    program = edge.to_executorch()
    (folder / "model.pte").write_bytes(program.buffer)
    version = getattr(executorch, "__version__", None) or _dist_version("executorch")
    return ExportResult("model.pte", notes, {"executorch": version},
                        {"delegation": summary | {"per_op": per_op}, "backend": "XnnpackBackend"})


class _HalfWrapper(torch.nn.Module):
    """Runs the wrapped graph in fp16 while keeping fp32 (and int) inputs/outputs at the boundary."""

    def __init__(self, graph: torch.nn.Module) -> None:
        super().__init__()
        self.inner = graph.half()

    def forward(self, *args):
        args = [a.half() if a.is_floating_point() else a for a in args]
        return tuple(o.float() for o in self.inner(*args))


def _quantize_pt2e(module: torch.fx.GraphModule, req: ExportRequest, notes: list[str]) -> torch.fx.GraphModule:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                         get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    dynamic = req.quantize == "int8"
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic))
    prepared = prepare_pt2e(module, quantizer)
    if dynamic:
        prepared(*req.example_inputs)
        notes.append("PT2E dynamic int8: per-channel int8 weights, per-token dynamic activations (XNNPACK)")
    else:
        samples = req.calibration()
        for s in samples:
            prepared(*(torch.from_numpy(s[n]) for n in req.input_names))
        notes.append(f"PT2E static int8: per-channel weights, activations calibrated on {len(samples)} step inputs "
                     "along real y/z trajectories")
    converted = convert_pt2e(prepared)
    shared = share_identical_constants(converted)
    if shared:
        notes.append(f"{shared} per-call copies of quantized weights merged (each shared weight stored once)")
    return converted


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)
