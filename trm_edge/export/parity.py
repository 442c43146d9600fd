"""Parity: run the artifact next to the PyTorch model on held-out puzzles and record how close they are."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..data import PuzzleSet, exact_accuracy
from ..model.trm import TRM
from ..runtime.loop import SolveResult
from ..runtime.reference import solve_with_model
from .artifact import read_meta

INT8_MAX_DROP = 0.01   # int8 may lose at most 1 point of exact-puzzle accuracy


def parity_report(folder, model: TRM, data: PuzzleSet | None, quantize: str) -> dict[str, Any]:
    from ..runtime.artifacts import UnsupportedOnHost, load_runner   # runtime imports export.artifact

    if data is None or len(data) == 0:
        return {"status": "skipped", "reason": "no held-out puzzles: the checkpoint names no dataset; pass --data-path"}
    try:
        runner = load_runner(folder)
    except UnsupportedOnHost as exc:
        report: dict[str, Any] = {"status": "skipped", "reason": str(exc)}
        meta = read_meta(folder)
        if meta.target == "coreml":
            report["weights_readback"] = coreml_weights_check(folder / meta.model_file, model, data, quantize,
                                                              fp16_state=meta.recursion == "stateful")
        return report
    halting = "act" if runner.meta.recursion == "loop" else "fixed"   # a Loop graph halts by itself
    t0 = time.perf_counter()
    art = runner.solve(data.inputs, data.puzzle_identifiers, halting=halting)
    seconds = time.perf_counter() - t0
    ref = solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=halting)
    report = {"status": "ok", "puzzles": len(data), "halting": halting,
              "steps": int(runner.meta.halt_max_steps) if halting == "fixed" else float(art.steps.mean()),
              **compare(art, ref, data, quantize), "seconds": seconds}
    if report.get("int8_within_budget") is False:
        report["status"] = "int8_over_budget"
    return report


def coreml_weights_check(package, model: TRM, data: PuzzleSet, quantize: str,
                         fp16_state: bool = False) -> dict[str, Any]:
    """Where Core ML cannot run: PyTorch with the weights read back (decompressed) from the package, next to
    PyTorch with the original weights. Measures weight compression (and, for stateful models, float16
    storage of y/z between steps), not Core ML's arithmetic."""
    import torch

    from .coreml_weights import load_package_weights

    readback, replaced, total = load_package_weights(model, package)
    art = solve_with_model(readback.eval(), data.inputs, data.puzzle_identifiers,
                           state_dtype=torch.float16 if fp16_state else None)
    ref = solve_with_model(model, data.inputs, data.puzzle_identifiers)
    what = "weight compression" + (" and float16 y/z state storage" if fp16_state else "")
    return {"what": f"PyTorch with the .mlpackage's own (decompressed) weights vs the original weights; "
                    f"simulates {what}, not Core ML arithmetic",
            "parameters_read_back": f"{replaced}/{total}", "complete": replaced == total, "puzzles": len(data),
            **compare(art, ref, data, quantize)}


def compare(art: SolveResult, ref: SolveResult, data: PuzzleSet, quantize: str) -> dict[str, Any]:
    """How close the artifact's answers are to the reference's, and the int8 accuracy budget."""
    ign = data.meta.ignore_label_id
    acc_art = float(exact_accuracy(art.predictions, data.labels, ign).mean())
    acc_ref = float(exact_accuracy(ref.predictions, data.labels, ign).mean())
    out: dict[str, Any] = {
        "steps_agreement": float((art.steps == ref.steps).mean()),
        "max_abs_logit_diff": float(np.abs(art.logits - ref.logits).max()),
        "cell_agreement": float((art.predictions == ref.predictions).mean()),
        "q_halt_sign_agreement": float(((art.q_halt > 0) == (ref.q_halt > 0)).mean()),
        "exact_accuracy_artifact": acc_art,
        "exact_accuracy_pytorch": acc_ref,
        "accuracy_drop": acc_ref - acc_art,
    }
    if quantize.startswith(("int8", "palette")):
        out["int8_budget"] = INT8_MAX_DROP
        out["int8_within_budget"] = out["accuracy_drop"] <= INT8_MAX_DROP + 1e-9
        if not out["int8_within_budget"]:
            out["reason"] = (f"{quantize} loses {100 * out['accuracy_drop']:.1f} points of exact accuracy "
                             f"(budget {100 * INT8_MAX_DROP:.0f})")
    return out
