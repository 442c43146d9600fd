"""Start trm-edge's helper processes so that nothing outside the installed packages can be imported.

`python -m pkg.module` puts the working directory first on `sys.path`: a `json.py` in a folder someone sent
you would run inside every helper started from there. Helpers therefore run in isolated mode (`-I`: no
working directory, no user site, no PYTHON* variables), and this very copy of trm_edge is bound by its file
location rather than found on a path, so a child never imports another trm_edge than its parent did.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

PACKAGE_DIR = Path(__file__).resolve().parent


def _boot(module: str, paths: Sequence[Path]) -> str:
    """The `-c` program: put `paths` first, bind trm_edge to PACKAGE_DIR, then run `module` as __main__."""
    return "; ".join([
        "import importlib.util, runpy, sys",
        f"sys.path[:0] = {[str(p) for p in paths]!r}",
        f"spec = importlib.util.spec_from_file_location('trm_edge', {str(PACKAGE_DIR / '__init__.py')!r}, "
        f"submodule_search_locations=[{str(PACKAGE_DIR)!r}])",
        "pkg = importlib.util.module_from_spec(spec)",
        "sys.modules['trm_edge'] = pkg",
        "spec.loader.exec_module(pkg)",
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)",
    ])


def python_command(module: str, args: Sequence[str] = (), python: str | Path | None = None,
                   paths: Sequence[Path] = ()) -> list[str]:
    """The argv that runs `python -m module args` in isolated mode, with `paths` searched first.

    `python` defaults to this interpreter; `paths` are folders of packages the child needs that are not in
    its own site-packages (the ARM64 environment's)."""
    return [str(python or sys.executable), "-I", "-c", _boot(module, paths), *map(str, args)]


RESULT_TAG = "TRM_EDGE_RESULT "   # the one stdout line a helper answers with; anything else it prints is noise


class HelperFailed(RuntimeError):
    """A helper process that timed out or exited non-zero; the message is one line."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def emit_result(result: dict) -> None:
    """A helper's answer to its parent (see `run_helper`)."""
    print(RESULT_TAG + json.dumps(result), flush=True)


@dataclass(frozen=True)
class HelperJob:
    """One helper process: `python -I -m module args` (see `python_command`), optionally behind a wrapper
    such as qemu, with a limit and a name for its errors."""

    module: str
    args: Sequence[object] = ()
    what: str = "the helper process"
    timeout: float | None = None
    python: str | Path | None = None
    paths: Sequence[Path] = ()
    wrapper: Sequence[str] = ()


def run_helper(job: HelperJob) -> dict | None:
    """Run the job; its `emit_result` answer (None when it answers by writing files). Raises HelperFailed."""
    cmd = [*job.wrapper, *python_command(job.module, [str(a) for a in job.args], job.python, job.paths)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=job.timeout)
    except subprocess.TimeoutExpired:
        raise HelperFailed(f"{job.what} timed out after {job.timeout:.0f} s", timed_out=True) from None
    answers = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise HelperFailed(f"{job.what} failed: {tail[-400:]}")
    return json.loads(answers[-1][len(RESULT_TAG):]) if answers else None


def die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (even by SIGKILL), so that nothing trm-edge
    started keeps running as an orphan; a no-op elsewhere. Used as a child's preexec_fn and by torchrun's workers."""
    import os
    import signal

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:   # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
