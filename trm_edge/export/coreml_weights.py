"""Read the weights back out of a saved `.mlpackage`, decompressed, and map them to the PyTorch parameters.

Core ML prediction needs macOS, but the package's weights can be read anywhere. Loading them into the
PyTorch model measures what weight compression (int8 linear quantization, k-means palettization, fp16
storage) does to the answers on Linux too. Compute precision (fp16 arithmetic) is not simulated.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


def package_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Every constant tensor of the ML Program's main function, with constexpr (compressed) ops expanded."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load as load_milproto
    from coremltools.optimize.coreml._quantization_passes import WeightDecompressor

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    program = load_milproto(spec, spec.specificationVersion, model.weights_dir)
    WeightDecompressor(op_selector=lambda op: True).apply(program)
    return {op.name: np.asarray(op.val.val) for op in program.functions["main"].operations
            if op.op_type == "const" and op.val.val is not None and np.ndim(op.val.val) > 0}


def load_package_weights(module: nn.Module, path: str | Path, prefix: str = "model.") -> tuple[nn.Module, int, int]:
    """A copy of `module` whose parameters are replaced by the package's (decompressed) weights.

    torch.export names a parameter `model.L_level.layers.0.mlp.down_proj.weight` as the constant
    `p_model_l_level_layers_0_mlp_down_proj_weight`, and the converter and compression passes append
    suffixes (`_to_fp16`, `_palettized`, ...). Returns (copy, parameters replaced, parameters in total)."""
    import copy

    weights = package_weights(path)
    clone = copy.deepcopy(module)
    replaced = total = 0
    for name, param in clone.named_parameters():
        total += 1
        key = "p_" + (prefix + name).replace(".", "_").lower()
        matches = [v for k, v in weights.items() if (k == key or k.startswith(key + "_")) and v.shape == param.shape
                   and np.issubdtype(v.dtype, np.floating)]   # not the int8 data a decompressed weight came from
        if len(matches) == 1:
            with torch.no_grad():
                param.copy_(torch.from_numpy(matches[0].astype(np.float32)))
            replaced += 1
    return clone, replaced, total
