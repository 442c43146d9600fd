"""Parity: run the artifact next to the PyTorch model on held-out puzzles and record how close they are."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..data import PuzzleSet, exact_accuracy
from ..model.trm import TRM
from ..runtime.reference import solve_with_model

INT8_MAX_DROP = 0.01   # int8 may lose at most 1 point of exact-puzzle accuracy


def parity_report(folder, model: TRM, data: PuzzleSet | None, quantize: str) -> dict[str, Any]:
    from ..runtime.artifacts import UnsupportedOnHost, load_runner   # runtime imports export.artifact

    if data is None or len(data) == 0:
        return {"status": "skipped", "reason": "no held-out puzzles: the checkpoint names no dataset; pass --data-path"}
    try:
        runner = load_runner(folder)
    except UnsupportedOnHost as exc:
        return {"status": "skipped", "reason": str(exc)}
    halting = "act" if runner.meta.recursion == "loop" else "fixed"   # a Loop graph halts by itself
    t0 = time.perf_counter()
    art = runner.solve(data.inputs, data.puzzle_identifiers, halting=halting)
    seconds = time.perf_counter() - t0
    ref = solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=halting)
    ign = data.meta.ignore_label_id
    acc_art = float(exact_accuracy(art.predictions, data.labels, ign).mean())
    acc_ref = float(exact_accuracy(ref.predictions, data.labels, ign).mean())
    report: dict[str, Any] = {
        "status": "ok",
        "puzzles": len(data),
        "halting": halting,
        "steps": int(runner.meta.halt_max_steps) if halting == "fixed" else float(art.steps.mean()),
        "steps_agreement": float((art.steps == ref.steps).mean()),
        "max_abs_logit_diff": float(np.abs(art.logits - ref.logits).max()),
        "cell_agreement": float((art.predictions == ref.predictions).mean()),
        "q_halt_sign_agreement": float(((art.q_halt > 0) == (ref.q_halt > 0)).mean()),
        "exact_accuracy_artifact": acc_art,
        "exact_accuracy_pytorch": acc_ref,
        "accuracy_drop": acc_ref - acc_art,
        "seconds": seconds,
    }
    if quantize.startswith("int8"):
        report["int8_budget"] = INT8_MAX_DROP
        report["int8_within_budget"] = report["accuracy_drop"] <= INT8_MAX_DROP + 1e-9
        if not report["int8_within_budget"]:
            report["status"] = "int8_over_budget"
            report["reason"] = (f"int8 loses {100 * report['accuracy_drop']:.1f} points of exact accuracy "
                                f"(budget {100 * INT8_MAX_DROP:.0f})")
    return report
