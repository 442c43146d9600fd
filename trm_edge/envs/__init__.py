"""Helper environments some commands need, built once by `trm-edge setup NAME` into the cache folder
(`TRM_EDGE_CACHE`, default ~/.cache/trm-edge): nothing here depends on a source checkout.

- litert: a virtual environment with litert-torch (TFLite export; its pins conflict with coremltools').
- arm64:  an arm64 Debian root with ONNX Runtime and LiteRT, run under qemu-user (`trm-edge check-arm`).
- web:    ONNX Runtime Web from npm, pinned by trm_edge/web/package-lock.json (`trm-edge web`).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Callable

from ..files import cache_dir, stage_history
from ..ownership import Destination, FolderKind, check_destination, marked_files, staged
from ..progress import silent, stage

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


def build(env: HelperEnv, rebuild: bool = False, log: Callable[[str], None] = silent) -> Path:
    """Build `env` (a no-op when a working one is there, unless `rebuild`); its folder. The new one is built
    beside the old and swapped in only when it is complete, so a rebuild that cannot finish (no network) keeps
    the working one; a folder there that trm-edge did not build is refused by name, never replaced."""
    folder = env.folder()
    if not rebuild and _working(env, folder):
        log(f"{env.value} environment already built: {folder} (--rebuild to build it again)")
        return folder
    dest = Destination(folder, FolderKind.ENV, overwrite=True, owned=lambda f: _owned(env, f),
                       name=f"{env.value} environment", cache=True)
    try:
        check_destination(dest)
    except FileExistsError:
        raise FileExistsError(f"{folder} exists and was not built by `trm-edge setup {env.value}`: it is left as it "
                              "is; move it, or point TRM_EDGE_CACHE at another folder") from None
    # pip and npm run silently: a line ticks for them; the ARM64 script prints its own progress lines
    ticking = stage(f"building the {env.value} environment", f"setup {env.value}", stage_history()) \
        if env is not HelperEnv.arm64 else contextlib.nullcontext()
    with staged(dest, log) as work, ticking:
        {HelperEnv.litert: _litert, HelperEnv.arm64: _arm64, HelperEnv.web: _web}[env](work, log)
    log(f"built {folder}")
    return folder


def _working(env: HelperEnv, folder: Path) -> bool:
    """Whether `folder` holds a usable build of `env`."""
    if env is HelperEnv.litert:
        python = folder / "bin" / "python"
        return python.exists() and _run([str(python), "-I", "-c", "import litert_torch"], check=False) == 0
    if env is HelperEnv.arm64:
        return (folder / "env.json").is_file()
    installed = folder / "node_modules" / "onnxruntime-web" / "package.json"
    try:
        wanted = json.loads((HERE.parent / "web" / "package.json").read_text())["dependencies"]["onnxruntime-web"]
        return json.loads(installed.read_text()).get("version") == wanted
    except (OSError, ValueError, KeyError):
        return False


def _owned(env: HelperEnv, folder: Path) -> set[str] | None:
    """What `trm-edge setup` may replace: a folder carrying its marker, or one an older trm-edge built (no marker
    then: recognised by what only that build leaves there); a cache, so nothing in it is listed. None for
    anything else."""
    if marked_files(folder, FolderKind.ENV) is not None:
        return set()
    legacy = {HelperEnv.litert: ("pyvenv.cfg",), HelperEnv.arm64: ("env.json", "root/usr/bin/python3"),
              HelperEnv.web: ("package-lock.json", "node_modules/onnxruntime-web/package.json")}[env]
    if not all((folder / f).exists() for f in legacy):
        return None
    if env is HelperEnv.web and (folder / "package-lock.json").read_bytes() != \
            (HERE.parent / "web" / "package-lock.json").read_bytes():
        return None
    return set()


def _litert(folder: Path, log) -> None:
    # -I everywhere: the user's working directory may hold a venv.py, pip/ or litert_torch.py that must not run
    log("creating the litert-torch environment (pip, a few minutes) ...")
    _run([sys.executable, "-I", "-m", "venv", "--system-site-packages", str(folder)])
    _run([str(folder / "bin" / "python"), "-I", "-m", "pip", "install", "-q", "--disable-pip-version-check",
          LITERT_TORCH])


def _arm64(folder: Path, log) -> None:
    env = {**os.environ, "DEST": str(folder), "PY": sys.executable, "QEMU_CPU": ARM_CPU}
    _run(["bash", str(HERE / "arm64.sh")], show=True, env=env)


def _web(folder: Path, log) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the web demo needs ONNX Runtime Web from npm, and npm is not installed "
                           "(apt-get install npm)")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE.parent / "web" / name, folder / name)
    log("installing ONNX Runtime Web (npm ci) ...")
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
