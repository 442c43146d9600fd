"""Parity: run the artifact next to the PyTorch model on held-out puzzles and record how close they are."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..data import PuzzleSet, exact_accuracy
from ..progress import on_step_ticks, step_bar
from ..model.trm import TRM
from ..host_loop import Halting, SolveResult
from ..runtime.reference import solve_with_model
from .. import targets
from ..recursion import mode as recursion_mode
from ..artifact import read_meta
from ..targets.precision import Precision

MAX_DROP = 0.01            # a compressed artifact (fp16, int8, palettized) may lose at most 1 point of exact accuracy
FP32_MIN_CELL_AGREEMENT = 0.999
TEACHER_FORCED_PUZZLES = 8
FP32_STEP_TOLERANCE = 1e-3   # fp32: one step's largest logit difference on the same inputs, over the logits' size


def parity_report(folder, model: TRM, data: PuzzleSet | None, quantize: str) -> dict[str, Any]:
    from ..runtime.artifacts import UnsupportedOnHost, load_runner   # runtime imports export.artifact

    if data is None or len(data) == 0:
        return {"status": "skipped", "reason": "no held-out puzzles: the checkpoint names no dataset; pass --data-path"}
    try:
        runner = load_runner(folder)
    except UnsupportedOnHost as exc:
        report: dict[str, Any] = {"status": "skipped", "reason": str(exc)}
        meta = read_meta(folder)
        if targets.get(meta.target).weights_readback:
            check = coreml_weights_check(folder / meta.model_file, model, data, quantize,
                                         fp16_state=recursion_mode(meta.recursion).state_in_graph)
            report["weights_readback"] = check
            if not check["within_budget"]:   # compression alone already misses the budget
                report["status"], report["reason"] = "failed", f"weights read back: {check['reason']}"
        return report
    halting = runner.mode.reference_halting   # all steps, unless the graph halts by itself
    batches = -(-len(data) // runner.meta.batch)
    t0 = time.perf_counter()
    with step_bar(batches * int(runner.meta.halt_max_steps), f"parity ({len(data)} puzzles)") as bar:
        art = runner.solve(data.inputs, data.puzzle_identifiers, halting=halting, on_step=on_step_ticks(bar))
    seconds = time.perf_counter() - t0
    ref = solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=halting)
    verdict = compare(art, ref, data, quantize)
    step = teacher_forced(runner, model, data) if quantize == Precision.FP32 else None   # fp32's first judge
    if step is not None:
        verdict["teacher_forced"] = step
        verdict["budget"]["max_rel_step_logit_diff"] = FP32_STEP_TOLERANCE
        if step["max_rel_logit_diff"] > FP32_STEP_TOLERANCE:
            verdict["within_budget"] = False
            verdict["reason"] = "; ".join(filter(None, [verdict.get("reason"), (
                f"one step on the same inputs differs from PyTorch by {step['max_rel_logit_diff']:.1e} of the "
                f"logits' size (fp32 allows {FP32_STEP_TOLERANCE:.0e})")]))
    return {"status": "ok" if verdict["within_budget"] else "failed", "puzzles": len(data), "halting": halting,
            "steps": float(art.steps.mean()) if Halting.parse(halting).stops_early else int(runner.meta.halt_max_steps),
            **verdict, "seconds": seconds}


def teacher_forced(runner, model: TRM, data: PuzzleSet) -> dict[str, Any] | None:
    """One step on the same inputs, every step of PyTorch's own trajectory: its y and z fed to both sides, so
    the chaos of the recursion cannot compound a rounding into a different answer. What fp32 is judged on first:
    the largest logit difference relative to the logits' size. None where the artifact has no step to call
    (graphs that run the whole recursion) or fewer puzzles than one batch."""
    import torch

    batch = runner.batch
    count = min(TEACHER_FORCED_PUZZLES, len(data)) // batch * batch
    if not runner.mode.host_stepped or count == 0:
        return None
    worst_abs, worst_rel, per_step = 0.0, 0.0, []
    for start in range(0, count, batch):
        rows = slice(start, start + batch)
        x, ids = data.inputs[rows], data.puzzle_identifiers[rows]
        carry = model.initial_carry(batch)
        y, z = carry.y, carry.z
        for _ in range(int(runner.meta.halt_max_steps)):
            with torch.no_grad():
                y_next, z_next, logits, _ = model.infer_step(torch.as_tensor(x), torch.as_tensor(ids), y, z)
            _, _, art_logits, _ = runner.step(x, ids, y.numpy(), z.numpy())
            ref = logits.numpy().reshape(np.shape(art_logits))
            diff = float(np.abs(np.asarray(art_logits, dtype=np.float64) - ref).max())
            worst_abs, worst_rel = max(worst_abs, diff), max(worst_rel, diff / max(float(np.abs(ref).max()), 1e-6))
            per_step += [diff] if start == 0 else []
            y, z = y_next, z_next
    return {"puzzles": count, "steps": int(runner.meta.halt_max_steps), "max_abs_logit_diff": worst_abs,
            "max_rel_logit_diff": worst_rel, "first_batch_max_abs_per_step": per_step}


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


def paired_difference(art_correct: np.ndarray, ref_correct: np.ndarray) -> tuple[float, float, float]:
    """Mean of artifact-minus-PyTorch exact accuracy over the same puzzles, with its normal 95% interval."""
    d = art_correct.astype(np.float64) - ref_correct.astype(np.float64)
    mean = float(d.mean())
    half = 1.96 * float(d.std(ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else 0.0
    return mean, mean - half, mean + half


def _judged_cells(art: SolveResult, ref: SolveResult, ref_ok: np.ndarray) -> tuple[float, str]:
    """fp32 cell agreement where it means something: on the puzzles PyTorch solves. On a puzzle neither side
    solves the recursion is chaotic, and one rounding flips the wrong answer it ends on; those cells are reported
    (cell_agreement) but not judged. A model that solves none is judged on every cell."""
    if ref_ok.any():
        same = (art.predictions[ref_ok] == ref.predictions[ref_ok]).mean()
        return float(same), f"the {int(ref_ok.sum())} puzzles PyTorch solves"
    return float((art.predictions == ref.predictions).mean()), "every puzzle (PyTorch solves none)"


def compare(art: SolveResult, ref: SolveResult, data: PuzzleSet, quantize: str) -> dict[str, Any]:
    """How close the artifact's answers are to the reference's, and its verdict: fp32 must agree on
    >= 99.9% of the cells of the puzzles PyTorch solves, with an accuracy difference whose 95% interval holds 0;
    a compressed artifact
    (fp16, int8, palettized) may lose at most 1 point of exact accuracy."""
    ign = data.meta.ignore_label_id
    art_ok = exact_accuracy(art.predictions, data.labels, ign)
    ref_ok = exact_accuracy(ref.predictions, data.labels, ign)
    diff, lo, hi = paired_difference(art_ok, ref_ok)
    out: dict[str, Any] = {
        "steps_agreement": float((art.steps == ref.steps).mean()),
        "max_abs_logit_diff": float(np.abs(art.logits - ref.logits).max()),
        "cell_agreement": float((art.predictions == ref.predictions).mean()),
        "q_halt_sign_agreement": float(((art.q_halt > 0) == (ref.q_halt > 0)).mean()),
        "exact_accuracy_artifact": float(art_ok.mean()),
        "exact_accuracy_pytorch": float(ref_ok.mean()),
        "accuracy_drop": float(ref_ok.mean() - art_ok.mean()),
        "paired_difference": diff, "paired_difference_95ci": [lo, hi],
    }
    if quantize == Precision.FP32:
        judged, where = _judged_cells(art, ref, ref_ok)
        out["cell_agreement_judged"], out["cells_judged_on"] = judged, where
        out["budget"] = {"min_cell_agreement": FP32_MIN_CELL_AGREEMENT, "cells_judged_on": where,
                         "accuracy_difference_95ci_holds": 0.0}
        problems = []
        if judged < FP32_MIN_CELL_AGREEMENT:
            problems.append(f"fp32 agrees with PyTorch on {100 * judged:.2f}% of the cells of {where} "
                            f"(needs {100 * FP32_MIN_CELL_AGREEMENT:.1f}%)")
        if not lo <= 0.0 <= hi:
            problems.append(f"fp32 exact accuracy differs from PyTorch by {100 * diff:+.1f} points "
                            f"(95% interval {100 * lo:+.1f} to {100 * hi:+.1f})")
        out["within_budget"] = not problems
    else:
        out["budget"] = {"max_accuracy_drop": MAX_DROP}
        out["within_budget"] = out["accuracy_drop"] <= MAX_DROP + 1e-9
        problems = [] if out["within_budget"] else [
            f"{quantize} loses {100 * out['accuracy_drop']:.1f} points of exact accuracy (budget {100 * MAX_DROP:.0f})"]
    broken = [name for name, r in (("the artifact", art), ("PyTorch", ref))
              if not (np.isfinite(r.logits).all() and np.isfinite(r.q_halt).all())]
    if broken:   # NaN compares unequal to everything, so no figure above can be trusted
        problems = [f"{' and '.join(broken)} produced NaN or infinite outputs", *problems]
        out["within_budget"] = False
    if problems:
        out["reason"] = "; ".join(problems)
    return out
