"""`trm-edge evaluate` as a library call: a checkpoint's exact accuracy on held-out puzzles, at its recorded
settings unless the request says otherwise, with tries and the rules check where asked."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from ..budget import BUDGET
from ..datasets.splits import held_out, spec_for
from ..host_loop import Halting, HaltRule, check_max_steps
from ..model.checkpoint import load_checkpoint
from ..progress import on_step_ticks, silent, step_bar
from ..runtime.reference import EVAL_BATCH
from ..settings import choose
from .trainer import evaluate, evaluate_with_tries, pick_device


@dataclass
class EvaluateJob:
    checkpoint: Path
    puzzles: int = 500
    halting: Optional[str] = None          # None: the recorded settings', else act
    data_path: Optional[Path] = None        # a dataset instead of the checkpoint's own test split
    band: Optional[str] = None              # generated Sudoku: '30-40' givens or 'minimal'
    official_config: Optional[Path] = None
    device: str = "auto"
    max_steps: Optional[int] = None
    h_cycles: Optional[int] = None
    l_cycles: Optional[int] = None
    tries: Optional[int] = None
    log: Callable[[str], None] = silent


def run_evaluate(job: EvaluateJob) -> dict[str, Any]:
    """The metrics (exact and cell accuracy, steps; with tries: verified and verified_wrong) and what ran."""
    if job.halting is not None:
        Halting.parse(job.halting)
    if job.max_steps is not None:
        check_max_steps(job.max_steps)
    ckpt = load_checkpoint(job.checkpoint, job.official_config)
    chosen = choose(ckpt.settings, job.h_cycles, job.l_cycles, job.halting, job.max_steps, job.tries)
    ckpt = ckpt.at_depth(chosen.h_cycles, chosen.l_cycles)
    if chosen.note():
        job.log(chosen.note())
    c = ckpt.config
    steps = chosen.max_steps or c.halt_max_steps
    BUDGET.check_net_calls(job.puzzles, steps, c.H_cycles, c.L_cycles, chosen.tries)
    spec = spec_for((ckpt.info or {}).get("data_spec"), ckpt.data_meta.task if ckpt.data_meta else None, job.data_path)
    if spec is None:
        raise ValueError("this checkpoint does not say what data it was trained on: pass --data-path")
    data = held_out(spec, job.puzzles, job.band, whole_file=job.data_path is not None)
    ckpt.check_fits(data.meta, f"the puzzles in {job.data_path}" if job.data_path else "the puzzles")
    dev = pick_device(job.device)
    model = ckpt.build_model(dev)
    rule = Halting.parse(chosen.halting)
    if chosen.tries == 1 and rule.rule is not HaltRule.VALID:
        with step_bar(-(-len(data) // EVAL_BATCH) * steps, f"evaluate ({len(data)} puzzles)") as bar:
            metrics = evaluate(model, data, dev, chosen.halting, chosen.max_steps, on_step=on_step_ticks(bar))
    else:
        metrics = evaluate_with_tries(model, data, dev, rule, steps, chosen.tries)
    return {**metrics, "H_cycles": c.H_cycles, "L_cycles": c.L_cycles, "halting": chosen.halting,
            "max_steps": steps, "tries": chosen.tries, "band": job.band,
            "data": str(job.data_path) if job.data_path else "the checkpoint's test split"}


def summary_text(checkpoint: Path, m: dict[str, Any]) -> str:
    """Two lines a person reads: what ran, and what it scored (`run_evaluate`'s figures)."""
    band = f", band {m['band']}" if m.get("band") else ""
    ran = (f"{checkpoint}: {m['puzzles']} puzzles of {m['data']}{band}; T={m['H_cycles']}, n={m['L_cycles']}, "
           f"{m['halting']} halting, at most {m['max_steps']} steps, {m['tries']} tr{'y' if m['tries'] == 1 else 'ies'}")
    scored = f"exact accuracy {m['exact_accuracy']:.3f}"
    if "cell_accuracy" in m:
        scored += f", cells {m['cell_accuracy']:.3f}"
    if "verified" in m:
        scored += f", verified by the rules {m['verified']:.3f} (verified but wrong: {m['verified_wrong']})"
    return f"{ran}\n{scored}, mean steps {m['mean_steps']:.2f} (--json for every figure)"
