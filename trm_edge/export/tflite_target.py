"""TFLite / LiteRT export through litert-torch, run in its own Python environment.

litert-torch pins packages that conflict with coremltools, so it lives in a separate virtual
environment (created by `trm-edge setup litert`, in the cache folder). This module writes the
model's config and weights (tensors and plain values only, loaded there with torch's weights-only loader) to a
temp file; the worker rebuilds the graph from trm_edge's own code, converts it, and the result is checked with
the LiteRT interpreter here.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..envs import litert_python
from ..subproc import HelperFailed, HelperJob, run_helper
from .graphs import packed_copies_note
from .spec import ExportRequest, ExportResult

def export(req: ExportRequest, folder: Path) -> ExportResult:
    py = litert_python()
    job = folder / "_tflite_job.pt"
    model = req.graph.model
    torch.save({"config": model.config.to_dict(), "state_dict": model.state_dict(), "recursion": req.recursion,
                "example": list(req.example_inputs),
                "quantize": req.quantize, "input_names": list(req.input_names),
                "output_names": list(req.output_names)}, job)
    try:
        report = run_helper(HelperJob("trm_edge.export.tflite_worker", [job, folder / "model.tflite"],
                                      "litert-torch conversion", python=py))
    except HelperFailed as exc:
        raise RuntimeError(str(exc)) from None
    finally:
        job.unlink(missing_ok=True)
    if report is None:
        raise RuntimeError("litert-torch conversion gave no report")
    from ai_edge_litert.interpreter import Interpreter

    Interpreter(model_path=str(folder / "model.tflite"))
    signatures = report["signatures"]
    notes = list(report["notes"])
    copies = None if req.methods else packed_copies_note(req.graph)
    if copies:
        notes.append(copies)
        req.log(copies)
    notes.append(f"LiteRT interpreter loads it (signature{'s' if len(signatures) > 1 else ''} "
                 f"{', '.join(map(repr, signatures))})")
    if req.methods:
        return ExportResult("model.tflite", notes, report["versions"], {"tflite_signatures": signatures})
    name, keys = next(iter(signatures.items()))
    return ExportResult("model.tflite", notes, report["versions"], {"tflite_signature": {"name": name, **keys}})
