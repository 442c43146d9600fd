"""Helper environments some commands need, built once by `trm-edge setup NAME` into the cache folder
(`TRM_EDGE_CACHE`, default ~/.cache/trm-edge): nothing here depends on a source checkout.

- litert: a virtual environment with litert-torch (TFLite export; its pins conflict with coremltools').
- arm64:  an arm64 Debian root with ONNX Runtime and LiteRT, run under qemu-user (`trm-edge check-arm`).
- web:    ONNX Runtime Web from npm, pinned by trm_edge/web/package-lock.json (`trm-edge web`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

from ..files import cache_dir

LITERT_TORCH = "litert-torch==0.10.0"
# qemu's CPU model for ARM64 runs: every NEON extension (fp16 arithmetic, dot product, i8mm) without SVE/SME, which
# qemu emulates ~20x slower and phones' NEON code paths do not use
ARM_CPU = "max,sve=off,sme=off"
HERE = Path(__file__).resolve().parent


class HelperEnv(str, Enum):
    litert = "litert"
    arm64 = "arm64"
    web = "web"

    def folder(self) -> Path:
        return cache_dir() / {"litert": "litert-env", "arm64": "arm64", "web": "web"}[self.value]


def litert_python() -> Path:
    """The litert environment's Python; one-line error naming the command that builds it."""
    path = HelperEnv.litert.folder() / "bin" / "python"
    if not path.exists():
        raise RuntimeError(f"TFLite export needs litert-torch in its own environment, not found at {path}: "
                           "run `trm-edge setup litert` once")
    return path


def build(env: HelperEnv, rebuild: bool = False, log=print) -> Path:
    """Build `env` (a no-op when it is there, unless `rebuild`); its folder."""
    folder = env.folder()
    {HelperEnv.litert: _litert, HelperEnv.arm64: _arm64, HelperEnv.web: _web}[env](folder, rebuild, log)
    return folder


def _litert(folder: Path, rebuild: bool, log) -> None:
    python = folder / "bin" / "python"
    # -I everywhere: the user's working directory may hold a venv.py, pip/ or litert_torch.py that must not run
    if python.exists() and not rebuild and _run([str(python), "-I", "-c", "import litert_torch"], check=False) == 0:
        log(f"litert environment already built: {folder}")
        return
    if rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    log(f"creating the litert-torch environment in {folder} (pip, a few minutes) ...")
    _run([sys.executable, "-I", "-m", "venv", "--system-site-packages", str(folder)])
    _run([str(python), "-I", "-m", "pip", "install", "-q", "--disable-pip-version-check", LITERT_TORCH])
    log(f"built {folder}")


def _arm64(folder: Path, rebuild: bool, log) -> None:
    env = {**os.environ, "DEST": str(folder), "PY": sys.executable, "QEMU_CPU": ARM_CPU}
    _run(["bash", str(HERE / "arm64.sh")] + (["--rebuild"] if rebuild else []), show=True, env=env)


def _web(folder: Path, rebuild: bool, log) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the web demo needs ONNX Runtime Web from npm, and npm is not installed "
                           "(apt-get install npm)")
    if rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE.parent / "web" / name, folder / name)
    log(f"installing ONNX Runtime Web into {folder} (npm ci) ...")
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder)


def _run(cmd: list[str], check: bool = True, show: bool = False, **kwargs) -> int:
    """Run a build step: its output is kept off the terminal (`show`: a script's own progress lines) and the end of
    its error output goes into the one-line error when it fails."""
    pipe = None if show else subprocess.PIPE
    proc = subprocess.run(cmd, stdout=pipe, stderr=pipe, text=True, **kwargs)
    if check and proc.returncode:
        tail = (proc.stderr or "").strip().splitlines()[-1:] if not show else []
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed (exit {proc.returncode})" + (f": {tail[0]}" if tail else ""))
    return proc.returncode
