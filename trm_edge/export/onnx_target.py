"""ONNX export (torch.onnx dynamo exporter) with ONNX Runtime int8 (dynamic or static QDQ, per-channel) and fp16."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..recursion import mode as recursion_mode
from .ort_mobile import convert_to_ort, mobile_usability, summary_line
from .int4_gptq import keeps_int8
from .spec import INT4_BLOCK, ExportRequest, ExportResult
from ..targets.onnx import WEIGHTS_ONLY
from ..targets.precision import Precision


def _int4(fp32_path: Path, final: Path, kept: list[np.ndarray]) -> str:
    """4-bit weights in blocks with their own scale (ONNX Runtime's MatMulNBits), the token mixer's (`kept`, found
    by value: the exporter renames folded weights) and the remaining large weights int8 (dequantized at load);
    fp32 activations."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = final.with_name("model_pre.onnx")   # folds the exporter's weight Transposes into the initializers
    quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
    graph = onnx.load(str(pre))
    held = _nodes_reading(graph.graph, kept)
    quantizer = MatMulNBitsQuantizer(graph, bits=4, block_size=INT4_BLOCK, is_symmetric=True,
                                     nodes_to_exclude=held)
    quantizer.process()
    pre.unlink()
    model = quantizer.model.model
    in8 = compress_weights(model, "int8")
    onnx.save(model, str(final))
    packed = sum(n.op_type == "MatMulNBits" for n in onnx.load(str(final)).graph.node)
    return (f"int4 weights: {packed} MatMuls as MatMulNBits, symmetric 4-bit blocks of {INT4_BLOCK} along K with one "
            f"fp32 scale each; {len(held)} token-mixer MatMuls and {in8} other large tensors as int8 (one scale "
            "per row, dequantized at load); activations and accumulation stay fp32")


def export(req: ExportRequest, folder: Path) -> ExportResult:
    import onnx
    import onnxruntime

    scheme = req.options.get("int8-scheme") or WEIGHTS_ONLY   # the default that keeps accuracy (targets/onnx.py)
    if scheme == "dynamic-keep-mlp-t" and not req.graph.model.config.mlp_t:
        raise ValueError("--int8-scheme dynamic-keep-mlp-t keeps the token-mixing MLP (mlp_t) in fp32, and this "
                         "model has none (it uses attention): use --int8-scheme weights")
    fp32_path = folder / ("model_fp32.onnx" if req.quantize != Precision.FP32 else "model.onnx")
    notes = write_fp32(req, fp32_path)
    final = folder / "model.onnx"
    if req.quantize != Precision.FP32:
        notes.append(_quantize(req, scheme, fp32_path, final))
        fp32_path.unlink()
    if recursion_mode(req.recursion).graph_halts:   # the step inside an ONNX Loop that exits on q_halt > 0
        notes.append(_wrap_in_loop(req, final))
    onnx.checker.check_model(str(final))
    extra: dict = {"int8_scheme": scheme} if req.quantize == Precision.INT8 else {}
    extra.update(_mobile_files(req, final, notes))
    sess = onnxruntime.InferenceSession(str(final), providers=["CPUExecutionProvider"])
    notes.append(f"ONNX Runtime {onnxruntime.__version__} loads it: inputs "
                 + ", ".join(f"{i.name}{i.shape}" for i in sess.get_inputs()))
    return ExportResult(model_file="model.onnx", notes=notes,
                        tool_versions={"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}, extra=extra)


def _quantize(req: ExportRequest, scheme: str, fp32_path: Path, final: Path) -> str:
    """Write `final` at the request's precision from the fp32 file; returns the note saying what was done."""
    import onnx

    if req.quantize == Precision.INT8 and scheme == WEIGHTS_ONLY:
        model = onnx.load(str(fp32_path))
        count = compress_weights(model, "int8")
        onnx.save(model, str(final))
        return (f"int8 weight-only: {count} weight tensors stored as int8 with one scale per row, dequantized "
                "when ONNX Runtime loads the model; the math stays fp32")
    if req.quantize in (Precision.INT8, Precision.INT8_STATIC):
        return _ort_int8(req, scheme, fp32_path, final)
    if req.quantize == Precision.INT4:
        return _int4(fp32_path, final, token_mixer_weights(req.graph))
    model = onnx.load(str(fp32_path))   # fp16
    compress_weights(model, "fp16")
    onnx.save(model, str(final))
    return "fp16 weights (float16 initializers, cast to float32 at load); activations stay fp32"


def _ort_int8(req: ExportRequest, scheme: str, fp32_path: Path, final: Path) -> str:
    """ONNX Runtime's dynamic int8 (per-channel weights) or static QDQ int8 calibrated on step trajectories."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = final.with_name("model_pre.onnx")
    quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
    if req.quantize == Precision.INT8:
        keep = ([n for n, w in matmul_weights(fp32_path).items() if ".mlp_t." in w]
                if scheme == "dynamic-keep-mlp-t" else [])
        quantize_dynamic(str(pre), str(final), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=keep)
        pre.unlink()
        return ("dynamic int8: per-channel int8 weights, activations quantized (per tensor) at run time"
                + (f"; the {len(keep)} token-mixing (mlp_t) MatMuls kept fp32" if keep else ""))
    from .calibration import sample_reader

    samples = req.calibration()
    quantize_static(str(pre), str(final), sample_reader(samples), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul", "Gemm"])
    pre.unlink()
    return (f"static int8 QDQ, per-channel weights, calibrated on {len(samples)} step inputs "
            "taken along real y/z trajectories")


def _wrap_in_loop(req: ExportRequest, final: Path) -> str:
    """Put the step inside an ONNX Loop that runs up to N_sup steps and exits once q_halt > 0."""
    import onnx

    from .onnx_loop import wrap_step_in_loop

    with torch.no_grad():
        logits_shape = list(req.graph(*req.example_inputs)[2].shape)
    steps = req.graph.model.config.halt_max_steps
    # The example carry is the initial state (H_init / L_init broadcast), which the loop starts from.
    looped = wrap_step_in_loop(onnx.load(str(final)), req.example_inputs[2].numpy(), req.example_inputs[3].numpy(),
                               steps, logits_shape)
    onnx.save(looped, str(final), save_as_external_data=False)
    return f"recursion inside an ONNX Loop: at most {steps} steps, exits once q_halt > 0"


def _mobile_files(req: ExportRequest, final: Path, notes: list[str]) -> dict:
    """ONNX Runtime Mobile's usability report (advisory) and, with --ort, the .ort file beside the model."""
    extra: dict = {}
    try:   # advisory: a report that cannot be made must not fail the export
        usability = mobile_usability(final)
        notes.append(summary_line(usability))
    except Exception as exc:  # noqa: BLE001 - ORT's checker raises many kinds of errors
        usability = {"error": f"ORT mobile-usability check failed: {type(exc).__name__}: {str(exc)[:300]}"}
        notes.append(usability["error"])
    extra["ort_mobile_usability"] = usability
    if req.options.get("ort"):
        ort_path = convert_to_ort(final)
        extra["ort_file"] = ort_path.name
        notes.append(f"also converted to {ort_path.name} (ORT mobile format, CPU EP on ARM), "
                     f"{ort_path.stat().st_size / 1024:.0f} KB")
    return extra


def write_fp32(req: ExportRequest, path: Path) -> list[str]:
    """The request's graph as a checked fp32 ONNX file (shared weights stored once, no debug info); notes."""
    import onnx

    program = torch.onnx.export(req.graph, req.example_inputs, input_names=list(req.input_names),
                                output_names=list(req.output_names), dynamo=True, optimize=True, verbose=False)
    model = program.model_proto
    merged = dedupe_initializers(model)
    _strip_debug_info(model.graph)
    onnx.save(model, str(path), save_as_external_data=False)
    onnx.checker.check_model(str(path))
    return [f"{merged} duplicated constant tensors merged (shared weights stored once)"] if merged else []


def token_mixer_weights(graph: torch.nn.Module) -> list[np.ndarray]:
    """The weights an int4 export keeps in int8 (int4_gptq.keeps_int8), as the graph holds them."""
    from ..model.layers import Linear

    return [m.weight.detach().float().numpy() for n, m in graph.named_modules()
            if isinstance(m, Linear) and keeps_int8(n)]


def _nodes_reading(graph, weights: list[np.ndarray]) -> list[str]:
    """MatMul nodes whose constant input is one of `weights` (or its transpose, as pre-processing folds it)."""
    from onnx import numpy_helper

    wanted = list(weights) + [w.T for w in weights]
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    found = []
    for node in graph.node:
        arrays = [inits[x] for x in node.input if x in inits]
        held = any(a.shape == w.shape and np.array_equal(a, w) for a in arrays for w in wanted)
        if node.op_type == "MatMul" and held:
            found.append(node.name)
    return found


def matmul_weights(path: Path) -> dict[str, str]:
    """MatMul/Gemm node name -> the weight it reads, directly or through a Transpose ('activation' if none):
    how an int8 scheme finds the nodes of one layer (node names survive ORT's pre-processing)."""
    import onnx

    graph = onnx.load(str(path)).graph
    inits = {i.name for i in graph.initializer}
    transposed = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Transpose" and n.input[0] in inits}
    found = {}
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm"):
            names = [x if x in inits else transposed.get(x) for x in node.input]
            found[node.name] = next((n for n in names if n), "activation")
    return found


def dedupe_initializers(model) -> int:
    """Store identical initializers once: the exporter's constant folding writes a transposed copy of a
    shared weight for every use, which would multiply the file size by the number of recursion calls."""
    import hashlib

    graph = model.graph
    seen: dict[tuple, str] = {}
    rename: dict[str, str] = {}
    keep = []
    for init in graph.initializer:
        key = (init.data_type, tuple(init.dims), hashlib.sha1(init.SerializeToString(deterministic=True)
                                                             .replace(init.name.encode(), b"")).hexdigest())
        if key in seen:
            rename[init.name] = seen[key]
        else:
            seen[key] = init.name
            keep.append(init)
    if not rename:
        return 0
    del graph.initializer[:]
    graph.initializer.extend(keep)
    _rename_inputs(graph, rename)
    return len(rename)


def _strip_debug_info(graph) -> None:
    """Drop per-node source stack traces the exporter stores; they can outweigh a tiny model's weights."""
    for node in graph.node:
        node.doc_string = ""
        del node.metadata_props[:]
    del graph.value_info[:]


def _rename_inputs(graph, rename: dict[str, str]) -> None:
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
        for attr in node.attribute:
            if attr.g is not None and attr.g.node:
                _rename_inputs(attr.g, rename)
    for out in graph.output:
        if out.name in rename:
            raise ValueError(f"graph output {out.name} is a duplicated constant")


def compress_weights(model, kind: str) -> int:
    """Store large float initializers compressed, decompressed once when ONNX Runtime loads the model, so the
    math stays fp32: 'fp16' as float16 + Cast, 'int8' as symmetric int8 with one scale per row (axis 0) +
    DequantizeLinear. Returns how many tensors were compressed."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    new_inits, decoders = [], []
    for init in list(graph.initializer):
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size < 1024:
            new_inits.append(init)
            continue
        if kind == Precision.FP16:
            new_inits.append(numpy_helper.from_array(arr.astype(np.float16), init.name + "__fp16"))
            decoders.append(helper.make_node("Cast", [init.name + "__fp16"], [init.name], to=onnx.TensorProto.FLOAT,
                                             name=init.name + "__cast"))
            continue
        rows = arr.reshape(arr.shape[0], -1)
        scale = np.maximum(np.abs(rows).max(1), 1e-12).astype(np.float32) / 127.0
        q = np.clip(np.round(rows / scale[:, None]), -127, 127).astype(np.int8).reshape(arr.shape)
        new_inits += [numpy_helper.from_array(q, init.name + "__int8"),
                      numpy_helper.from_array(scale, init.name + "__scale")]
        decoders.append(helper.make_node("DequantizeLinear", [init.name + "__int8", init.name + "__scale"],
                                         [init.name], axis=0, name=init.name + "__dequantize"))
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    nodes = decoders + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return len(decoders)
