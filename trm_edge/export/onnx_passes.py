"""Rewrites of exported ONNX step graphs for runtimes that have a better kernel than the decomposed ops."""
from __future__ import annotations

import numpy as np


def fuse_rms_norms(model) -> int:
    """Replace each decomposed weightless RMSNorm, x * Reciprocal(Sqrt(ReduceMean(Pow(x, 2), [-1]) + eps)), by
    one SimplifiedLayerNormalization node (ONNX Runtime's, which its QNN EP maps to the HTP's RMS norm) with a scale of ones (the same function).

    A quantized graph otherwise carries x^2 as an activation whose range spans 0 to ~60,000 on the 9x9 model,
    which 8 or 16 bits cannot resolve; the fused op keeps the squares inside the kernel. The chains' constants go
    with them (ONNX Runtime warns about each initializer no node reads). Returns the count."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    inferred = onnx.shape_inference.infer_shapes(model).graph
    dims = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in
            list(inferred.value_info) + list(inferred.input) + list(inferred.output)}
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consts.update({n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node
                   if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"})
    producer = {o: n for n in graph.node for o in n.output}
    remove, fused = set(), 0
    for mul in [n for n in graph.node if n.op_type == "Mul"]:
        chain = _rms_chain(mul, producer, consts)
        if chain is None:
            continue
        x, eps, nodes = chain
        width = (dims.get(x) or [0])[-1]
        if width <= 0:
            continue
        scale = f"{mul.output[0]}__rms_scale"
        graph.initializer.append(numpy_helper.from_array(np.ones(width, np.float32), scale))
        fused_node = helper.make_node("SimplifiedLayerNormalization", [x, scale], [mul.output[0]], axis=-1,
                                      epsilon=eps, name=f"{mul.name}__rms_norm")   # ORT's, in the default domain
        graph.node.insert(list(graph.node).index(mul), fused_node)
        remove |= {id(n) for n in nodes}
        fused += 1
    kept = [n for n in graph.node if id(n) not in remove]
    del graph.node[:]
    graph.node.extend(kept)
    read = {name for n in graph.node for name in n.input} | {o.name for o in graph.output}
    orphans = [i for i in graph.initializer if i.name not in read]   # the fused chains' exponents and epsilons
    for init in orphans:
        graph.initializer.remove(init)
    return fused


def _rms_chain(mul, producer, consts):
    """(x, eps, the six nodes) when `mul` ends the decomposed RMSNorm of x over the last axis, else None."""
    for x, r in (mul.input, reversed(mul.input)):
        rec = producer.get(r)
        if rec is None or rec.op_type != "Reciprocal":
            continue
        sqrt = producer.get(rec.input[0])
        add = producer.get(sqrt.input[0]) if sqrt is not None and sqrt.op_type == "Sqrt" else None
        if add is None or add.op_type != "Add":
            continue
        mean_name, eps_name = (add.input if add.input[1] in consts else list(reversed(add.input)))
        mean = producer.get(mean_name)
        if mean is None or mean.op_type != "ReduceMean" or eps_name not in consts:
            continue
        axes = consts.get(mean.input[1]) if len(mean.input) > 1 else None
        pow_ = producer.get(mean.input[0])
        if axes is None or list(np.ravel(axes)) != [-1] or pow_ is None or pow_.op_type != "Pow":
            continue
        if pow_.input[0] != x or float(np.ravel(consts.get(pow_.input[1], [0]))[0]) != 2.0:
            continue
        return x, float(np.ravel(consts[eps_name])[0]), [pow_, mean, add, sqrt, rec, mul]
    return None


def fold_weight_transposes(model):
    """The model with every constant-only subgraph folded, whatever its size (onnxscript's folder; the
    exporter's own pass stops at 8192-element inputs, so each Linear keeps a Transpose of its weight).

    A quantizer sees a weight only when a MatMul reads an initializer: behind a Transpose it is quantized as an
    activation (16-bit in w8a16, not int8), and the NPU transposes it again at every call."""
    import onnx_ir as ir
    from onnxscript.optimizer import fold_constants

    import onnx

    folded = ir.from_proto(model)
    fold_constants(folded, input_size_limit=1 << 30, output_size_limit=1 << 30)
    # the quantizer needs every tensor's type; the folder keeps none for the values it rewired
    return onnx.shape_inference.infer_shapes(ir.to_proto(folded), strict_mode=True)


def name_weights_like(model, tensors: dict[str, np.ndarray]) -> None:
    """Give each folded weight (the folders call them val_N) the name of the checkpoint tensor it equals, or that
    name + '.T' if it equals its transpose, so quantization overrides and error tables can name layers. A name
    already in the graph is not given twice."""
    from onnx import numpy_helper

    used_by_matmul = {n.input[1] for n in model.graph.node if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1}
    taken = {i.name for i in model.graph.initializer}
    renamed = {}
    for init in model.graph.initializer:
        if init.name not in used_by_matmul or not init.name.startswith("val_") or len(init.dims) != 2:
            continue
        array = numpy_helper.to_array(init)
        for name, tensor in tensors.items():
            for wanted, candidate in ((name, tensor), (f"{name}.T", tensor.T)):
                if wanted not in taken and candidate.shape == array.shape and np.array_equal(candidate, array):
                    renamed[init.name] = wanted
                    taken.add(wanted)
    for init in model.graph.initializer:
        init.name = renamed.get(init.name, init.name)
    for node in model.graph.node:
        node.input[:] = [renamed.get(x, x) for x in node.input]
