"""Solve puzzles from a file with one artifact and write the raw answers: a job another process can run.

    python -m trm_edge.runtime.solve_job ARTIFACT JOB.npz OUT.npz

JOB.npz holds `inputs` and `puzzle_identifiers`, and `halting` (one rule per run, e.g. ["fixed", "act"]).
OUT.npz holds, per rule, `<rule>/predictions`, `/steps`, `/logits`, `/q_halt`; for `fixed` also
`fixed/q_trace` (q_halt after every step, [steps, puzzles]; empty for unrolled graphs); and `host` (JSON:
machine, runtime versions). Torch-free for ONNX and LiteRT artifacts, so it runs inside the emulated ARM64
environment (`trm-edge check-arm`), where only numpy and the runtimes are installed.
"""
from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import targets
from ..host_loop import Halting
from .artifacts import load_runner

FIELDS = ("predictions", "steps", "logits", "q_halt")


def run_job(folder: Path, job: Path, out: Path) -> None:
    with np.load(job) as arrays:
        inputs, ids, rules = arrays["inputs"], arrays["puzzle_identifiers"], [str(r) for r in arrays["halting"]]
    runner = load_runner(folder, threads=1)
    results: dict[str, np.ndarray] = {}
    for rule in rules:
        by_step: dict[int, list[np.ndarray]] = {}   # batches run one after another: gather each step's rows
        res = runner.solve(inputs, ids, halting=rule,
                           on_step=lambda k, answer, q: by_step.setdefault(k, []).append(np.array(q)))
        results.update({f"{rule}/{f}": getattr(res, f) for f in FIELDS})
        if not Halting.parse(rule).stops_early:   # every batch ran every step, so each step has every row
            results["fixed/q_trace"] = (res.q_trace if res.q_trace is not None else
                                        np.stack([np.concatenate(by_step[k]) for k in sorted(by_step)]))
    module = targets.get(runner.meta.target).runtime_module.split(".")[0]
    host = {"machine": platform.machine(), "python": platform.python_version(), "runtime": module,
            "runtime_version": _version(module), "numpy": np.__version__}
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez(tmp, host=np.array(json.dumps(host)), **results)
    tmp.replace(out)


def _version(module: str) -> str:
    for dist in (module, module.replace("_", "-")):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m trm_edge.runtime.solve_job ARTIFACT JOB.npz OUT.npz")
    run_job(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
