"""Calibrated int4 weights: GPTQ on the inputs each linear layer sees along real y/z trajectories.

Rounding each weight to its nearest 4-bit code (what the runtimes' own quantizers do) ignores which errors the
recursion amplifies. GPTQ rounds one input column at a time and moves the rounding error onto the columns not
yet rounded, weighted by the layer's input statistics (H = E[x xT], collected on training puzzles at every
supervision step), so the layer's output, not its weights, stays close; the columns whose inputs carry the most
energy go first (act-order), while the most columns are left to absorb their error. The result is written back as float
weights that lie exactly on the target's own int4 grid (`Int4Grid`: the scale each block gets from its anchor
weight, which is kept as it is), so the target's quantizer at export reproduces these codes.

The token mixer (`mlp_t`) is left alone: the ONNX and ExecuTorch int4 exports keep it in int8 (4 bits there cost
most of the answers; what the rest costs: `trm-edge study int4`, results/int4).
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..data.puzzles import PuzzleSet
from ..model.layers import Linear
from ..model.trm import TRM
from ..targets.precision import Int4Grid
from .calibration import along_trajectories

KEPT_IN_INT8 = ".mlp_t."    # the token-mixing MLP's weights: int8 in the ONNX and ExecuTorch int4 exports
DAMPING = 0.01              # of H's mean diagonal, added to its diagonal (GPTQ's usual value)


def keeps_int8(name: str) -> bool:
    """Whether a layer (by module or weight name) stays int8 in an int4 export."""
    return KEPT_IN_INT8 in f".{name}"


@torch.no_grad()
def input_statistics(model: TRM, data: PuzzleSet, puzzles: int, batch: int = 64) -> dict[str, torch.Tensor]:
    """E[x xT] of every int4 layer's input, over `puzzles` training puzzles at each supervision step."""
    layers = {n: m for n, m in model.named_modules() if isinstance(m, Linear) and not keeps_int8(n)}
    sums = {n: torch.zeros(m.weight.shape[1], m.weight.shape[1], dtype=torch.float64) for n, m in layers.items()}
    counts = dict.fromkeys(layers, 0)

    def record(name: str):
        def hook(_module, inputs, _output) -> None:
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).double()
            sums[name] += x.T @ x
            counts[name] += x.shape[0]
        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in layers.items()]
    try:
        for _ in along_trajectories(model, data, min(puzzles, len(data)), batch):
            pass   # the hooks record each step as the model takes it
    finally:
        for h in hooks:
            h.remove()
    return {n: sums[n] / max(counts[n], 1) for n in layers}


def _scales(weight: torch.Tensor, grid: Int4Grid, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each (row, block)'s scale, and where its anchor sits (a mask over the weight)."""
    rows, cols = weight.shape
    scales = torch.ones(rows, -(-cols // block), dtype=weight.dtype)
    anchors = torch.zeros_like(weight, dtype=torch.bool)
    for b in range(scales.shape[1]):
        part = weight[:, b * block:(b + 1) * block]
        at = part.abs().argmax(1)
        anchor = part.gather(1, at[:, None])[:, 0]
        scale = (anchor if grid.signed else anchor.abs()) / grid.divisor
        scales[:, b] = torch.where(scale == 0, torch.ones_like(scale), scale)
        anchors[torch.arange(rows), b * block + at] = True
    return scales, anchors


def gptq(weight: torch.Tensor, stats: torch.Tensor, grid: Int4Grid, block: int, act_order: bool = True) -> torch.Tensor:
    """The weight (out x in) on the grid, rounded column by column with the error moved onto later columns
    (`act_order`: the columns whose inputs carry the most energy first, while the most columns are left to take
    their error; the blocks' scales stay those of the weight as trained)."""
    w = weight.double().clone()
    h = stats.double().clone()
    dead = torch.diag(h) == 0                    # an input never seen: nothing to keep close
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += DAMPING * torch.mean(torch.diag(h)) * torch.eye(len(h), dtype=h.dtype)
    scales, anchors = _scales(w, grid, block)
    order = torch.argsort(torch.diag(h), descending=True) if act_order else torch.arange(w.shape[1])
    w, h, anchors = w[:, order], h[order][:, order], anchors[:, order]
    inverse = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    original = w.clone()
    for k in range(w.shape[1]):
        scale = scales[:, int(order[k]) // block]
        rounded = torch.clamp(torch.round(w[:, k] / scale), grid.qmin, grid.qmax) * scale
        final = torch.where(anchors[:, k], original[:, k], rounded)   # the anchor keeps the block's scale
        error = (w[:, k] - final) / inverse[k, k]   # what this column's choice leaves for the later ones
        w[:, k + 1:] -= error[:, None] * inverse[k, k + 1:][None, :]
        w[:, k] = final
    return w[:, torch.argsort(order)].to(weight.dtype)


def calibrated_int4(model: TRM, data: PuzzleSet, puzzles: int, grid: Int4Grid, block: int) -> TRM:
    """A copy of the model whose int4 layers hold GPTQ weights on `grid` (the caller's model stays as it was)."""
    stats = input_statistics(model, data, puzzles)
    out = copy.deepcopy(model)
    for name, module in out.named_modules():
        if name in stats:
            module.weight.data = gptq(module.weight.data, stats[name], grid, block)
    return out


def output_error(weight: torch.Tensor, approx: torch.Tensor, stats: torch.Tensor) -> float:
    """E||(W - W')x||^2 over the recorded inputs: what GPTQ minimises (for notes and tests)."""
    d = (approx - weight).double()
    return float(np.trace((d @ stats @ d.T).numpy()))
