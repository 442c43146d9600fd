"""Core ML export: torch.export -> ML Program `.mlpackage` (fp32 / fp16 compute, int8 or palettized weights).

Conversion runs anywhere; prediction needs macOS, so on Linux the parity check reports itself skipped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..quiet import quiet_native
from ..recursion import mode as recursion_mode
from .coreml_settings import (MIN_COMPRESSED_WEIGHT, compute_precision, deployment_target, int4_weight_config,
                              int8_weight_config, palette_config)
from .graphs import STATEFUL_STATES
from .spec import ExportRequest, ExportResult
from ..targets.precision import Precision


def export(req: ExportRequest, folder: Path) -> ExportResult:
    """Convert, compress and save (coremltools draws a progress bar for every pass pipeline and compression pass
    it runs: kept off the terminal unless --verbose)."""
    with quiet_native():
        return _export(req, folder)


def _export(req: ExportRequest, folder: Path) -> ExportResult:
    import coremltools as ct

    notes: list[str] = []
    exported = torch.export.export(req.graph, req.example_inputs, strict=False).run_decompositions({})
    inputs = [ct.TensorType(name=n, shape=tuple(t.shape), dtype=np.int32 if not t.is_floating_point() else np.float32)
              for n, t in zip(req.input_names, req.example_inputs)]
    outputs = [ct.TensorType(name=n) for n in req.output_names]
    precision = compute_precision(req.quantize)
    options: dict = {"minimum_deployment_target": deployment_target(ios18=req.quantize == Precision.INT4)}
    in_graph = recursion_mode(req.recursion).state_in_graph
    if in_graph:   # y/z as Core ML states: iOS 18+, and states are float16
        states = [ct.StateType(wrapped_type=ct.TensorType(shape=tuple(getattr(req.graph, n).shape), dtype=np.float16),
                               name=n) for n in STATEFUL_STATES]
        options = {"minimum_deployment_target": deployment_target(ios18=True), "states": states}
        notes.append("y and z live in the model as Core ML states (float16 storage, iOS 18+): the app sends only "
                     "tokens and a reset flag per step")
    mlmodel = ct.convert(exported, inputs=inputs, outputs=outputs, convert_to="mlprogram", compute_precision=precision,
                         **options)
    mlmodel = _compress(mlmodel, req.quantize, notes)
    mlmodel.short_description = f"TRM {req.recursion} graph ({req.quantize})"
    path = folder / "model.mlpackage"
    mlmodel.save(str(path))
    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    names = [i.name for i in spec.description.input]
    if names != list(req.input_names):
        raise RuntimeError(f"Core ML model inputs {names} do not match {list(req.input_names)}")
    states = [st.name for st in spec.description.state]
    if in_graph and states != list(STATEFUL_STATES):
        raise RuntimeError(f"Core ML model states {states} are not {list(STATEFUL_STATES)}")
    notes.append("converted and re-read on this host; prediction needs macOS")
    return ExportResult("model.mlpackage", notes, {"coremltools": ct.__version__},
                        {"coreml": {"deployment_target": "iOS18" if states or req.quantize == Precision.INT4 else "iOS17",
                                    "spec_version": spec.specificationVersion, "states": states}})


def _compress(mlmodel, quantize: str, notes: list[str]):
    """The ML Program with its weights compressed as the precision asks (fp16 is the converter's own)."""
    if quantize == Precision.FP16:
        notes.append("fp16 ML Program (weights and compute in float16)")
    if quantize in (Precision.INT8, Precision.INT4):
        from coremltools.optimize.coreml import OpLinearQuantizerConfig, OptimizationConfig, linear_quantize_weights

        passes = [int8_weight_config()] if quantize == Precision.INT8 else [int4_weight_config(), int8_weight_config()]
        for settings in passes:   # int4 then int8: a weight whose width is not a multiple of the block (the token
            config = OptimizationConfig(global_config=OpLinearQuantizerConfig(**settings))   # mixer's 82) gets int8
            mlmodel = linear_quantize_weights(mlmodel, config=config)
        notes.append("int8 per-channel linear weight quantization (coremltools.optimize); compute in fp32"
                     if quantize == Precision.INT8 else
                     f"int4 weights in blocks of {passes[0]['block_size']} input channels with one scale each "
                     "(coremltools.optimize, iOS 18), int8 per channel where the width is not a multiple of the "
                     "block; compute in fp32")
    if quantize.startswith("palette"):
        from coremltools.optimize.coreml import OpPalettizerConfig, OptimizationConfig, palettize_weights

        nbits = int(quantize.removeprefix("palette"))
        config = OptimizationConfig(global_config=OpPalettizerConfig(**palette_config(nbits)))
        mlmodel = palettize_weights(mlmodel, config=config)
        notes.append(f"{nbits}-bit k-means palettized weights (a {2 ** nbits}-entry lookup table per weight of at "
                     f"least {MIN_COMPRESSED_WEIGHT} elements; coremltools.optimize); compute in fp32")
    return mlmodel
