"""Graph rewrites that let XNNPACK take the whole TRM step as one delegate.

Two ops of the net have no XNNPACK kernel in the form PyTorch writes them, so each call of the shared
block fell back to portable kernels and cut the graph into ~50 delegated pieces (each with its own copy
of the weights it uses):
- RMSNorm's `mean(x², dim=-1, keepdim=True)` on a [B, L, D] tensor: XNNPACK's mean only averages the two
  innermost axes of a 4-D tensor, so it becomes `view [B, L, D, 1] -> mean((2, 3)) -> view [B, L, 1]`
  (the same D numbers averaged);
- SwiGLU's `chunk(2, dim=-1)`: becomes two `slice` ops.
Both are exact rewrites of the same math. The module also holds the other passes that keep the
ExecuTorch program compact: `share_identical_constants` (PT2E's per-call weight copies),
`drop_unused_constants` (originals left behind after lowering) and `keep_fp16_inside` (fp16 graphs).
"""
from __future__ import annotations

import torch
from torch import fx

aten = torch.ops.aten


def rewrite_for_xnnpack(gm: fx.GraphModule) -> dict[str, int]:
    """Rewrite `gm` (from `ExportedProgram.module()`) in place; returns how many ops of each kind changed."""
    counts = {"mean": 0, "chunk": 0}
    graph = gm.graph
    for node in list(graph.nodes):
        if node.op != "call_function":
            continue
        if node.target == aten.mean.dim and _is_last_axis_mean(node):
            b, n, d = node.args[0].meta["val"].shape
            with graph.inserting_before(node):
                x4 = graph.call_function(aten.view.default, (node.args[0], [b, n, d, 1]))
                m4 = graph.call_function(aten.mean.dim, (x4, [2, 3], True))
                out = graph.call_function(aten.view.default, (m4, [b, n, 1]))
            node.replace_all_uses_with(out)
            graph.erase_node(node)
            counts["mean"] += 1
        elif node.target == aten.chunk.default and _chunk_users_are_getitems(node):
            x, chunks = node.args[0], node.args[1]
            dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
            size = x.meta["val"].shape[dim]
            if size % chunks:
                continue
            step = size // chunks
            for user in list(node.users):
                i = user.args[1]
                with graph.inserting_before(user):
                    piece = graph.call_function(aten.slice.Tensor, (x, dim, i * step, (i + 1) * step))
                user.replace_all_uses_with(piece)
                graph.erase_node(user)
            graph.erase_node(node)
            counts["chunk"] += 1
    graph.lint()
    gm.recompile()
    return counts


def _is_last_axis_mean(node: fx.Node) -> bool:
    x = node.args[0]
    val = x.meta.get("val") if isinstance(x, fx.Node) else None
    if val is None or val.dim() != 3 or node.kwargs.get("dtype") is not None:
        return False
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    keepdim = node.args[2] if len(node.args) > 2 else node.kwargs.get("keepdim", False)
    return bool(keepdim) and list(dims) in ([-1], [2])


def _chunk_users_are_getitems(node: fx.Node) -> bool:
    import operator

    return all(u.op == "call_function" and u.target is operator.getitem for u in node.users)


def share_identical_constants(gm: fx.GraphModule) -> int:
    """Point every `get_attr` of a tensor equal to an earlier one at that earlier attribute.

    PT2E's convert folds a weight's quantization into a new constant at each call site, so the
    shared net's int8 weights appeared once per recursion call (6x per step); after this they are
    stored once. Returns the number of constants dropped."""
    import hashlib

    seen: dict[tuple, fx.Node] = {}
    dropped = 0
    for node in list(gm.graph.nodes):
        if node.op != "get_attr":
            continue
        value = _get_attr(gm, node.target)
        if not isinstance(value, torch.Tensor):
            continue
        t = value.detach().contiguous().cpu()
        key = (t.dtype, tuple(t.shape), hashlib.sha1(t.reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()
               if t.numel() else "")
        if key in seen:
            node.replace_all_uses_with(seen[key])
            gm.graph.erase_node(node)
            dropped += 1
        else:
            seen[key] = node
    if dropped:
        gm.graph.lint()
        gm.delete_all_unused_submodules()
        gm.recompile()
    return dropped


def _get_attr(gm: fx.GraphModule, target: str):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def drop_unused_constants(ep) -> int:
    """Remove parameters, buffers and constant tensors that no node of a lowered program reads.

    After lowering, the delegate carries its own (packed, deduplicated) copies of the weights it uses;
    the originals (fp32 weights of an int8 graph, PT2E's per-call int8 copies) would otherwise still be
    serialized as program constants. Mutated buffers are kept. Returns the number removed."""
    from torch.export.graph_signature import InputKind

    placeholders = {n.name: n for n in ep.graph_module.graph.nodes if n.op == "placeholder"}
    mutated = set(ep.graph_signature.buffers_to_mutate.values())
    unused = [s for s in ep.graph_signature.input_specs
              if s.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)
              and s.target not in mutated and not placeholders[s.arg.name].users]
    for spec in unused:
        ep.graph_signature.input_specs.remove(spec)
        if spec.kind == InputKind.CONSTANT_TENSOR:
            ep.constants.pop(spec.target, None)
        else:
            ep.state_dict.pop(spec.target, None)
        ep.graph_module.graph.erase_node(placeholders[spec.arg.name])
    if unused:
        ep.graph_module.recompile()
    return len(unused)


def keep_fp16_inside(gm: fx.GraphModule) -> int:
    """In an fp16 graph, remove the fp32 islands: fp16 -> fp32 -> fp16 round trips (RMSNorm computes in
    fp32 in PyTorch), SiLU's upcasting decomposition, and float scalars that would become fp32 constants.

    XNNPACK has no dtype-converting copy, so each island left casts on portable kernels and cut the
    delegate apart. The casts at the graph's boundary (fp32 in and out) stay. Returns the number of
    rewrites."""
    graph = gm.graph
    outputs = set(_flatten_output(graph))
    removed = 0
    for node in list(graph.nodes):   # export's dtype assertions would now fail: the dtypes change on purpose
        if node.op == "call_function" and node.target == aten._assert_tensor_metadata.default:
            graph.erase_node(node)
    for node in list(graph.nodes):
        if node.op != "call_function" or node.target != aten.to.dtype or node in outputs:
            continue
        src = node.args[0]
        val = src.meta.get("val") if isinstance(src, fx.Node) else None
        if val is None or not val.dtype.is_floating_point or src.op == "placeholder":
            continue
        if node.args[1] in (torch.float32, torch.float16):   # every float inside is fp16 after .half()
            node.replace_all_uses_with(src)
            graph.erase_node(node)
            removed += 1
    # SiLU's decomposition upcasts fp16 to fp32 around the sigmoid: write it as x * sigmoid(x) in fp16.
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target == aten.silu.default:
            with graph.inserting_before(node):
                sig = graph.call_function(aten.sigmoid.default, (node.args[0],))
                out = graph.call_function(aten.mul.Tensor, (node.args[0], sig))
            node.replace_all_uses_with(out)
            graph.erase_node(node)
    # Python-float operands (RMSNorm's eps, scales) would become fp32 constants cast to fp16 at run time,
    # each cast on a portable kernel: make them fp16 constants up front.
    binary = (aten.add.Tensor, aten.mul.Tensor, aten.sub.Tensor, aten.div.Tensor)
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target in binary and isinstance(node.args[1], float):
            name = f"_fp16_scalar_{removed}"
            gm.register_buffer(name, torch.tensor(node.args[1], dtype=torch.float16))
            with graph.inserting_before(node):
                const = graph.get_attr(name)
            node.args = (node.args[0], const, *node.args[2:])
            removed += 1
    graph.eliminate_dead_code()
    graph.lint()
    gm.recompile()
    return removed


def _flatten_output(graph: fx.Graph) -> list[fx.Node]:
    out = next(n for n in graph.nodes if n.op == "output")
    found: list[fx.Node] = []
    fx.node.map_arg(out.args, lambda a: found.append(a))
    return found
