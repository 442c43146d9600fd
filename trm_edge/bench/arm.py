"""Parity on ARM64 kernels: run artifacts under qemu-user, in the environment `trm-edge setup arm64` builds,
and compare them with PyTorch on x86 and with the same artifact run on x86.

Phones run NEON code paths (native fp16 arithmetic, int8 dot products) that never execute on an x86 host.
Emulated timings say nothing about a phone, so this reports parity only.
"""
from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import recursion
from ..artifact import ArtifactMeta, read_meta
from ..data import PuzzleSet, exact_accuracy
from ..export.parity import compare
from ..envs import ARM_CPU, HelperEnv
from ..host_loop import Halting, HaltRule, SolveResult, act_halt_steps
from ..runtime.solve_job import FIELDS, run_job
from ..subproc import HelperFailed, HelperJob, run_helper
from ..progress import silent

DEFAULT_CPU = ARM_CPU   # qemu 7.2 emulates SVE ~20x slower (32 steps of the 9x9 ONNX model: 519 s with SVE, 26.6 s without)


class ArmEnvMissing(RuntimeError):
    """The emulated ARM64 environment is not built (or qemu is missing); the message says how to build it."""


def arm_env_dir() -> Path:
    return HelperEnv.arm64.folder()


@dataclass(frozen=True)
class ArmEnv:
    """An arm64 Debian root with Python and the runtimes, run through qemu-aarch64-static -L."""

    folder: Path
    info: dict[str, Any]
    qemu: str

    @classmethod
    def locate(cls, folder: Path | None = None) -> "ArmEnv":
        import shutil

        folder = folder or arm_env_dir()
        qemu = shutil.which("qemu-aarch64-static")
        if not (folder / "env.json").is_file():
            raise ArmEnvMissing(f"no ARM64 environment in {folder}: build it once with `trm-edge setup arm64`")
        if qemu is None:
            raise ArmEnvMissing("qemu-aarch64-static is not installed (apt-get install qemu-user-static)")
        return cls(folder, json.loads((folder / "env.json").read_text()), qemu)

    def unavailable(self, target: str) -> str | None:
        """Why this environment cannot run a target's artifacts, or None when it can."""
        return self.info.get("missing", {}).get(target)

    def run_job(self, artifact: Path, job: Path, out: Path, cpu: str, timeout: float) -> None:
        root = self.folder / "root"
        try:
            run_helper(HelperJob("trm_edge.runtime.solve_job", [artifact, job, out], "the ARM64 run", timeout,
                                 python=root / "usr" / "bin" / "python3", paths=[root / "opt" / "trm-edge-site"],
                                 wrapper=[self.qemu, "-cpu", cpu, "-L", str(root)]))
        except HelperFailed as exc:
            hint = " (--timeout, or fewer --puzzles)" if exc.timed_out else ""
            raise RuntimeError(f"{exc}{hint}") from None
        if not out.is_file():
            raise RuntimeError("the ARM64 run wrote no answers")


@dataclass
class ArmCheck:
    """One artifact's parity on x86 and on ARM64 against PyTorch (x86), and ARM64 against x86."""

    artifact: str
    variant: str                                   # "onnx step int8"
    status: str                                    # ok, failed (a budget missed on ARM64), skipped, error
    reason: str | None = None
    puzzles: int = 0
    halting: str = "fixed"
    arm_host: dict[str, Any] = field(default_factory=dict)
    x86: dict[str, Any] = field(default_factory=dict)   # compare() vs PyTorch, with halting_agreement
    arm64: dict[str, Any] = field(default_factory=dict)
    arm64_vs_x86: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """PyTorch on x86: the fixed-step answers and the step at which ACT halts each puzzle."""

    fixed: SolveResult
    act: SolveResult


@dataclass
class ArmRun:
    """One check-arm run: the arm64 environment, the puzzles, the emulated CPU and how long a job may take."""

    env: ArmEnv
    data: PuzzleSet
    cpu: str = DEFAULT_CPU
    timeout: float = 3600
    log: Callable[[str], None] = silent


def check_artifact(run: ArmRun, folder: Path, ref: Reference) -> ArmCheck:
    env, data, cpu, log = run.env, run.data, run.cpu, run.log
    meta = read_meta(folder)
    scheme = meta.extra.get("int8_scheme", "dynamic")
    variant = f"{meta.target} {meta.recursion} {meta.quantize}" + (f" ({scheme})" if scheme != "dynamic" else "")
    check = ArmCheck(str(folder), variant, "ok", puzzles=len(data))
    why = env.unavailable(meta.target)
    if why:
        check.status, check.reason = "skipped", why
        return check
    rules = [recursion.mode(meta.recursion).reference_halting]
    check.halting = rules[0]
    with tempfile.TemporaryDirectory(prefix="trm-edge-arm-") as tmp:
        job = Path(tmp) / "job.npz"
        np.savez(job, inputs=data.inputs, puzzle_identifiers=data.puzzle_identifiers, halting=np.array(rules))
        run_job(folder, job, Path(tmp) / "x86.npz")
        log(f"  {check.variant}: {len(data)} puzzles x {meta.halt_max_steps} steps on emulated ARM64 "
            f"(qemu -cpu {cpu}; slow, no timings taken) ...")
        try:
            env.run_job(folder, job, Path(tmp) / "arm.npz", cpu, run.timeout)
        except RuntimeError as exc:
            check.status, check.reason = "error", str(exc)
            return check
        x86, arm = _outputs(Path(tmp) / "x86.npz", rules, meta), _outputs(Path(tmp) / "arm.npz", rules, meta)
    check.arm_host = arm["host"]
    want = ref.act if Halting.parse(check.halting).rule is HaltRule.ACT else ref.fixed
    for name, out in (("x86", x86), ("arm64", arm)):
        verdict = compare(out["answer"], want, data, meta.quantize)
        verdict["halting_agreement"] = float((out["act_steps"] == ref.act.steps).mean())
        setattr(check, name, verdict)
    check.arm64_vs_x86 = _agreement(arm, x86)
    if not check.arm64["within_budget"]:
        check.status, check.reason = "failed", f"on ARM64: {check.arm64.get('reason')}"
    return check


def _outputs(path: Path, rules: list[str], meta: ArtifactMeta) -> dict[str, Any]:
    """The answer of the check's main rule and each puzzle's ACT halting step, from a solve_job output."""
    with np.load(path) as out:
        rule = rules[0]
        answer = SolveResult(*(out[f"{rule}/{f}"] for f in FIELDS))
        act = HaltRule.ACT.value
        if act in rules:
            steps = out[f"{act}/steps"]
        else:
            steps = act_halt_steps(out["fixed/q_trace"], meta.halt_max_steps)
        return {"answer": answer, "act_steps": steps, "host": json.loads(str(out["host"]))}


def _agreement(arm: dict[str, Any], x86: dict[str, Any]) -> dict[str, Any]:
    a, b = arm["answer"], x86["answer"]
    return {"max_abs_logit_diff": float(np.abs(a.logits - b.logits).max()),
            "cell_agreement": float((a.predictions == b.predictions).mean()),
            "puzzle_agreement": float((a.predictions == b.predictions).all(-1).mean()),
            "halting_agreement": float((arm["act_steps"] == x86["act_steps"]).mean())}


def reference(model, data: PuzzleSet) -> Reference:
    from ..runtime.reference import solve_with_model

    return Reference(solve_with_model(model, data.inputs, data.puzzle_identifiers),
                     solve_with_model(model, data.inputs, data.puzzle_identifiers, halting="act"))


def run_checks(artifacts: list[Path], model, run: ArmRun) -> dict[str, Any]:
    env, data, log = run.env, run.data, run.log
    ref = reference(model, data)
    log(f"PyTorch on x86: exact {_exact(ref.fixed, data):.3f} on {len(data)} held-out puzzles "
        f"(fixed {model.config.halt_max_steps} steps), mean ACT steps {ref.act.steps.mean():.2f}")
    checks = []
    for folder in artifacts:
        checks.append(check_artifact(run, folder, ref))
        log(check_line(checks[-1]))
    return {"cpu": run.cpu, "environment": env.info, "puzzles": len(data), "python": sys.version.split()[0],
            "pytorch_exact_accuracy": _exact(ref.fixed, data),
            "timings": "none: emulated ARM64 runs are orders of magnitude slower than a phone and say nothing about it",
            "checks": [asdict(c) for c in checks]}


def _exact(res: SolveResult, data: PuzzleSet) -> float:
    return float(exact_accuracy(res.predictions, data.labels, data.meta.ignore_label_id).mean())


def check_line(check: ArmCheck) -> str:
    if check.status in ("skipped", "error"):
        return f"  {check.variant}: {check.status}: {check.reason}"
    a, d = check.arm64, check.arm64_vs_x86
    return (f"  {check.variant}: {check.status}; ARM64 exact {a['exact_accuracy_artifact']:.3f} "
            f"(x86 {check.x86['exact_accuracy_artifact']:.3f}, PyTorch {a['exact_accuracy_pytorch']:.3f}); "
            f"ARM64 vs x86: max |logit diff| {d['max_abs_logit_diff']:.2e}, cells {100 * d['cell_agreement']:.2f}%")
