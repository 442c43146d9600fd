"""ExecuTorch export: torch.export -> (PT2E int8) -> XNNPACK- or Core ML-delegated `.pte`, with a delegation summary."""
from __future__ import annotations

import copy
from pathlib import Path

import torch

from ..model.layers import plain_attention
from ..quiet import quiet_native
from .graphs import packed_copies_note
from .int4_gptq import keeps_int8
from .spec import INT4_BLOCK, ExportRequest, ExportResult
from .xnnpack_rewrite import drop_unused_constants, keep_fp16_inside, rewrite_for_xnnpack, share_identical_constants
from ..targets.precision import Precision


def export(req: ExportRequest, folder: Path) -> ExportResult:
    from executorch.exir import to_edge_transform_and_lower
    import executorch

    notes: list[str] = []
    delegate = req.options.get("delegate") or "xnnpack"
    programs, partitioners = {}, []
    for name, (graph, example) in (req.methods or {"forward": (req.graph, req.example_inputs)}).items():
        if delegate == "coreml":
            module, partitioners = _coreml_partitioners(req, graph, example, notes)
        else:
            module, partitioners = _xnnpack_module(req, graph, example, notes)
        programs[name] = torch.export.export(module, example, strict=False)
    # lowering runs the backends' own compilers (Core ML's draws a progress bar for every coremltools pass)
    with quiet_native():
        edge = to_edge_transform_and_lower(programs, partitioner=partitioners)
    dropped = sum(drop_unused_constants(edge.exported_program(name)) for name in programs)
    if dropped:
        notes.append(f"{dropped} constants read only inside the delegate dropped from the program")
    summary = _delegation_summary(edge, list(programs))
    program = edge.to_executorch()
    backends = sorted({d.id for plan in program.executorch_program.execution_plan for d in plan.delegates})
    methods = f" over {len(programs)} methods ({', '.join(programs)})" if req.methods else ""
    delegation = (f"delegation ({', '.join(backends)}): {summary['delegated_nodes']} ops delegated in "
                  f"{summary['delegated_subgraphs']} subgraph(s){methods}, {summary['non_delegated_nodes']} left on "
                  "portable kernels")
    req.log(delegation)
    notes.append(delegation)
    copies = None if req.methods or delegate != "xnnpack" else packed_copies_note(req.graph)
    if copies:
        notes.append(copies)
        req.log(copies)
    (folder / "model.pte").write_bytes(program.buffer)
    version = getattr(executorch, "__version__", None) or _dist_version("executorch")
    return ExportResult("model.pte", list(dict.fromkeys(notes)), {"executorch": version},
                        {"delegation": summary, "backend": "+".join(backends), "backends": backends,
                         "delegate": delegate})


def _delegation_summary(edge, methods: list[str]) -> dict:
    """Delegated / portable op counts over every method, and per op type."""
    from executorch.devtools.backend_debug import get_delegation_info

    summary = {"delegated_nodes": 0, "non_delegated_nodes": 0, "delegated_subgraphs": 0}
    per_op: dict[str, dict[str, int]] = {}
    for name in methods:
        info = get_delegation_info(edge.exported_program(name).graph_module)
        summary["delegated_nodes"] += info.num_delegated_nodes
        summary["non_delegated_nodes"] += info.num_non_delegated_nodes
        summary["delegated_subgraphs"] += info.num_delegated_subgraphs
        for _, row in info.get_operator_delegation_dataframe().iterrows():
            counts = per_op.setdefault(str(row["op_type"]), {"delegated": 0, "portable": 0})
            counts["delegated"] += int(row["occurrences_in_delegated_graphs"])
            counts["portable"] += int(row["occurrences_in_non_delegated_graphs"])
    return summary | {"per_op": per_op}


def _xnnpack_module(req: ExportRequest, graph: torch.nn.Module, example: tuple, notes: list[str]):
    """The graph rewritten (and quantized) for XNNPACK, and the XNNPACK partitioner."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

    if req.quantize == Precision.FP16:
        graph = _HalfWrapper(graph)
        notes.append("fp16 weights and compute inside the graph (XNNPACK fp16 kernels where the CPU has them); "
                     "inputs and outputs stay fp32")
    if req.quantize == Precision.INT4:
        graph = _int4_weights(graph, notes)
    with plain_attention(graph):   # SDPA's decomposition and the qkv split would cut the step into pieces
        module = torch.export.export(graph, example, strict=False).module()
    rewrites = rewrite_for_xnnpack(module)
    if req.quantize == Precision.FP16:
        rewrites["casts"] = keep_fp16_inside(module)
        notes.append(f"{rewrites['casts']} fp32 islands removed (casts, float scalars, SiLU's upcast): "
                     "RMSNorm and SiLU run in fp16 too")
    if any(rewrites.values()):
        notes.append(f"rewritten for XNNPACK: {rewrites['mean']} RMSNorm means as 4-D means, "
                     f"{rewrites['chunk']} SwiGLU chunks as slices (exact rewrites of the same math)")
    if req.quantize in (Precision.INT8, Precision.INT8_STATIC):
        module = _quantize_pt2e(module, req, example, notes)
    return module, [XnnpackPartitioner()]


def _coreml_partitioners(req: ExportRequest, graph: torch.nn.Module, example: tuple, notes: list[str]):
    """Core ML takes what it can (one ML Program for the whole step), XNNPACK what is left.

    Precision is Core ML's own: fp32 or fp16 compute, int8 as per-channel linear weight quantization.
    The program then needs an ExecuTorch runtime built with the Core ML backend (iOS / macOS)."""
    from executorch.backends.apple.coreml.compiler import CoreMLBackend
    from executorch.backends.apple.coreml.partition import CoreMLPartitioner
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

    from .coreml_settings import compute_precision, deployment_target, int8_weight_config

    precision = compute_precision(req.quantize)
    weight_config = int8_weight_config() if req.quantize == Precision.INT8 else None
    specs = CoreMLBackend.generate_compile_specs(minimum_deployment_target=deployment_target(),
                                                 compute_precision=precision,
                                                 op_linear_quantizer_config=weight_config)
    computes_in = Precision.FP16 if req.quantize == Precision.FP16 else Precision.FP32   # what compute_precision chose
    notes.append(f"Core ML delegate (ML Program, iOS 17+, {computes_in.label} compute"
                 f"{', int8 per-channel weights' if weight_config else ''}); XNNPACK takes the ops Core ML does not; "
                 "runs only where the ExecuTorch runtime has the Core ML backend (iOS/macOS)")
    module = torch.export.export(graph, example, strict=False).module()
    return module, [CoreMLPartitioner(compile_specs=specs), XnnpackPartitioner()]


def _int4_weights(graph: torch.nn.Module, notes: list[str]) -> torch.nn.Module:
    """A copy of the graph whose linear layers hold 4-bit weights in blocks of INT4_BLOCK along K, one scale each,
    with dynamic int8 activations (torchao's 8da4w, which XNNPACK runs as packed 4-bit GEMMs). The token mixer
    (int4_gptq.keeps_int8), and any layer whose K is not a multiple of the block (XNNPACK takes whole blocks
    only), gets int8 weights per output channel instead."""
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerAxis, PerGroup

    from ..model.layers import Linear

    graph = copy.deepcopy(graph)   # the caller's model stays fp32 (parity compares against it)
    for parent in list(graph.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Linear):   # torchao quantizes torch's own Linear
                plain = torch.nn.Linear(child.weight.shape[1], child.weight.shape[0], bias=child.bias is not None)
                plain.weight, plain.bias = child.weight, child.bias
                setattr(parent, name, plain)
    def blocks(m: torch.nn.Module, name: str) -> bool:
        return isinstance(m, torch.nn.Linear) and m.in_features % INT4_BLOCK == 0 and not keeps_int8(name)

    def rows(m: torch.nn.Module, name: str) -> bool:
        return isinstance(m, torch.nn.Linear) and not blocks(m, name)

    in4 = sum(blocks(m, n) for n, m in graph.named_modules())
    in8 = sum(rows(m, n) for n, m in graph.named_modules())
    quantize_(graph, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                           weight_granularity=PerGroup(INT4_BLOCK)), filter_fn=blocks)
    quantize_(graph, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0)),
              filter_fn=rows)
    notes.append(f"int4 weights (torchao 8da4w, XNNPACK): {in4} linear layers with symmetric 4-bit blocks of "
                 f"{INT4_BLOCK} along K, one scale each; {in8} with int8 per-channel weights (the token mixer, and "
                 f"any whose K is not a multiple of {INT4_BLOCK}); activations quantized to int8 per token at run time")
    return graph


class _HalfWrapper(torch.nn.Module):
    """Runs the wrapped graph in fp16 while keeping fp32 (and int) inputs/outputs at the boundary."""

    def __init__(self, graph: torch.nn.Module) -> None:
        super().__init__()
        self.inner = copy.deepcopy(graph).half()   # the caller's model stays fp32 (parity compares against it)

    def forward(self, *args):
        args = [a.half() if a.is_floating_point() else a for a in args]
        return tuple(o.float() for o in self.inner(*args))


def _quantize_pt2e(module: torch.fx.GraphModule, req: ExportRequest, example: tuple,
                   notes: list[str]) -> torch.fx.GraphModule:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                         get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    dynamic = req.quantize == Precision.INT8
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic))
    prepared = prepare_pt2e(module, quantizer)
    if dynamic:
        prepared(*example)
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
