"""`trm-edge web`: a self-contained static site that runs an ONNX step artifact in the browser, installable and
offline after one visit (web/pwa.py), on WebGPU where the browser has an adapter and on WASM otherwise.

The site holds the artifact's model, metadata and initial state (the page checks their SHA-256 from the
metadata with Web Crypto before running them), ONNX Runtime Web's WASM runtime (from the npm package pinned in
package.json, installed by `trm-edge setup web`: nothing is fetched from a CDN), the page, and sample puzzles.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..artifact import INIT_STATE_FILE, METADATA_FILE, ArtifactMeta, verify
from .. import targets
from ..files import cache_dir
from ..recursion import GraphKind
from ..recursion import mode as recursion_mode
from ..ownership import Destination, FolderKind, staged
from ..ownership import check_destination as check_ownership
from . import STATIC
from .pwa import write_app_files
from ..progress import silent

SITE_FILE = "site.json"
SITE_SCHEMA = "trm-edge-site/1"
# ONNX Runtime Web's two builds: the WASM one (CPU) and the WebGPU one (its own, larger WASM runs the graph's
# CPU parts and is about 2x slower on the CPU alone, measured in Chromium: so the page loads it only for WebGPU)
ORT_WASM = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_WEBGPU = ("ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm")
ORT_FILES = ORT_WASM + ORT_WEBGPU


def ort_web_dir() -> Path:
    """Where `trm-edge setup web` installs ONNX Runtime Web (npm ci of this folder's package.json)."""
    return cache_dir() / "web" / "node_modules" / "onnxruntime-web" / "dist"


def page_runs(meta: ArtifactMeta) -> bool:
    """The page's loop calls one step graph (tokens, ids, y, z in) at batch 1, in ONNX Runtime Web."""
    mode = recursion_mode(meta.recursion)
    return (targets.get(meta.target).browser and mode.graph is GraphKind.STEP and mode.host_stepped
            and not mode.net_methods and meta.batch == 1)


def page_tasks() -> tuple[str, ...]:
    """The tasks the page can type in, check and draw: one module each in static/tasks/."""
    return tuple(sorted(p.stem for p in (STATIC / "tasks").glob("*.js")))


@dataclass
class SiteRequest:
    artifact: Path
    out: Path
    overwrite: bool = False
    samples: dict[str, list[str]] = field(default_factory=dict)   # band -> puzzles


def check_request(req: SiteRequest) -> ArtifactMeta:
    """Refuse, before writing anything, what the page cannot run or a folder we must not replace; the
    artifact's verified metadata."""
    meta = verify(req.artifact)
    if not page_runs(meta) or meta.task not in page_tasks():
        raise ValueError(f"the web page runs --target onnx --recursion step --batch 1 artifacts of "
                         f"{' or '.join(page_tasks())} (this one is {meta.target}/{meta.recursion}/batch "
                         f"{meta.batch}, {meta.task})")
    missing = [f for f in ORT_FILES if not (ort_web_dir() / f).is_file()]
    if missing:
        raise FileNotFoundError(f"ONNX Runtime Web is not installed in {ort_web_dir().parent.parent.parent}: run "
                                "`trm-edge setup web` (it needs npm), or set TRM_EDGE_CACHE to where it is")
    check_ownership(destination(req))
    return meta


def destination(req: SiteRequest) -> Destination:
    """The site folder under the ownership rule: only a site trm-edge web wrote, holding nothing but the files
    it wrote and not this command's own artifact, is ever replaced."""
    return Destination(req.out, FolderKind.SITE, req.overwrite, (req.artifact,), name="site")


def build_site(req: SiteRequest, log: Callable[[str], None] = silent) -> Path:
    """Write the site beside `out`, then rename it into place (an old site is replaced only when the new one
    is complete; a site left aside by a killed swap is put back first)."""
    meta = check_request(req)
    with staged(destination(req), log) as tmp:
        _fill(tmp, req, meta)
    return req.out.absolute()


def _fill(folder: Path, req: SiteRequest, meta: ArtifactMeta) -> None:
    os.chmod(folder, 0o755)
    for name in (meta.model_file, INIT_STATE_FILE, METADATA_FILE):
        shutil.copy2(req.artifact / name, folder / name)
    for name in ("index.html", "app.js", "views.js", "style.css"):
        shutil.copy2(STATIC / name, folder / name)
    shutil.copytree(STATIC / "tasks", folder / "tasks", ignore=shutil.ignore_patterns("*~"))
    (folder / "ort").mkdir()
    for name in ORT_FILES:
        shutil.copy2(ort_web_dir() / name, folder / "ort" / name)
    site = {"schema": SITE_SCHEMA, "artifact": str(req.artifact), "samples": req.samples,
            "onnxruntime_web": json.loads((ort_web_dir().parent / "package.json").read_text())["version"]}
    (folder / SITE_FILE).write_text(json.dumps(site, indent=2) + "\n")
    first_sample = next((puzzles[0] for puzzles in req.samples.values() if puzzles), None)
    write_app_files(folder, meta.task, meta.grid_shape[0], first_sample)
