"""Wrap an exported ONNX step graph in an ONNX `Loop`: the recursion and ACT halting run inside the graph.

Outer graph: (inputs, puzzle_identifiers) -> (logits, q_halt [B, steps run]). The loop carries y, z and
the latest logits, starts from H_init/L_init, runs at most N_sup steps and exits after the first step
whose q_halt > 0 (batch 1, so there is no per-row freezing to do).
"""
from __future__ import annotations

import copy

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def wrap_step_in_loop(step: onnx.ModelProto, y0: np.ndarray, z0: np.ndarray, max_steps: int,
                      logits_shape: list[int]) -> onnx.ModelProto:
    g = step.graph
    names_in = [i.name for i in g.input]
    names_out = [o.name for o in g.output]
    if names_in != ["inputs", "puzzle_identifiers", "y", "z"] or names_out != ["y_out", "z_out", "logits", "q_halt"]:
        raise ValueError(f"not a trm-edge step graph: inputs {names_in}, outputs {names_out}")
    # The outer graph's outputs are called logits / q_halt too; a subgraph must not reuse outer names
    # (shape inference would merge the per-step [B] q_halt with the outer [B, steps] one).
    step_nodes = _renamed(list(g.node), {"logits": "step_logits", "q_halt": "step_q_halt"})
    y_info, z_info = g.input[2], g.input[3]
    body_inputs = [
        helper.make_tensor_value_info("iter", TensorProto.INT64, []),
        helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
        y_info, z_info,
        helper.make_tensor_value_info("logits_in", TensorProto.FLOAT, logits_shape),
    ]
    halt_nodes = [
        helper.make_node("Constant", [], ["zero_f"], value=numpy_helper.from_array(np.array(0, np.float32))),
        helper.make_node("Greater", ["step_q_halt", "zero_f"], ["halted_rows"]),
        helper.make_node("Cast", ["halted_rows"], ["halted_i"], to=TensorProto.INT64),
        helper.make_node("ReduceMin", ["halted_i"], ["all_halted_i"], keepdims=0),
        helper.make_node("Cast", ["all_halted_i"], ["all_halted"], to=TensorProto.BOOL),
        helper.make_node("Not", ["all_halted"], ["cond_out"]),
        helper.make_node("Identity", ["step_q_halt"], ["q_scan"]),
    ]
    body_outputs = [
        helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
        g.output[0], g.output[1],
        helper.make_tensor_value_info("step_logits", TensorProto.FLOAT, logits_shape),
        helper.make_tensor_value_info("q_scan", TensorProto.FLOAT, [logits_shape[0]]),
    ]
    body = helper.make_graph(step_nodes + halt_nodes, "trm_step_body", body_inputs, body_outputs)
    outer_inits = list(g.initializer) + [
        numpy_helper.from_array(y0.astype(np.float32), "y_init"),
        numpy_helper.from_array(z0.astype(np.float32), "z_init"),
        numpy_helper.from_array(np.zeros(logits_shape, np.float32), "logits_init"),
        numpy_helper.from_array(np.array(max_steps, np.int64), "max_steps"),
        numpy_helper.from_array(np.array(True), "cond_init"),
    ]
    loop = helper.make_node("Loop", ["max_steps", "cond_init", "y_init", "z_init", "logits_init"],
                            ["y_final", "z_final", "logits", "q_steps"], body=body)
    transpose = helper.make_node("Transpose", ["q_steps"], ["q_halt"], perm=[1, 0])
    outer = helper.make_graph(
        [loop, transpose], "trm_loop", [g.input[0], g.input[1]],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, logits_shape),
         helper.make_tensor_value_info("q_halt", TensorProto.FLOAT, [logits_shape[0], "steps"])],
        initializer=outer_inits)
    model = helper.make_model(outer, opset_imports=list(step.opset_import), producer_name="trm-edge")
    model.ir_version = step.ir_version
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return model


def _renamed(nodes: list, rename: dict[str, str]) -> list:
    out = []
    for node in nodes:
        node = copy.deepcopy(node)
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
        out.append(node)
    return out
