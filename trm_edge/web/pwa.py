"""What makes the site an app a phone keeps: a web app manifest, icons drawn from the task's own puzzle, and a
service worker that precaches every file of the site, checked against its SHA-256, in a cache named by the
hashes of all of them (a site rebuilt from another artifact is a new cache that replaces the old one whole).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..ownership import files_under
from ..tasks import get_task
from ..tasks.base import Task
from . import STATIC

MANIFEST_FILE = "manifest.webmanifest"
WORKER_FILE = "sw.js"
ICON_SIZES = (192, 512)
THEME = "#1f6feb"
BACKGROUND = "#f6f7f9"
# the shades of Task.shade: background, ink (a given, a wall), accent (start, goal)
SHADES = {0: (255, 255, 255), 1: (29, 36, 48), 2: (31, 111, 235)}


def write_app_files(folder: Path, task_name: str, side: int, puzzle_text: str | None) -> None:
    """Manifest, icons and service worker, written after every other file of the site (the worker lists them)."""
    task = get_task(task_name)
    (folder / "icons").mkdir()
    for size in ICON_SIZES:
        _icon(task, side, puzzle_text, size).save(folder / "icons" / f"icon-{size}.png", optimize=True)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest(task_name, side), indent=2) + "\n")
    (folder / WORKER_FILE).write_text(service_worker(folder))


def manifest(task_name: str, side: int) -> dict:
    """The fields an installable app needs (name, icons, start URL, standalone display)."""
    name = f"TRM {side}x{side} {task_name}"
    return {"name": f"trm-edge: {name}", "short_name": name, "start_url": "./", "scope": "./",
            "display": "standalone", "theme_color": THEME, "background_color": BACKGROUND,
            "description": f"A Tiny Recursive Model that solves {side}x{side} {task_name} puzzles on this device, "
                           "offline.",
            "icons": [{"src": f"icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                       "purpose": "any maskable"} for size in ICON_SIZES]}


def precache_list(folder: Path) -> dict[str, str]:
    """{path relative to the site: SHA-256} of every file the page may ask for (the worker itself excluded)."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in files_under(folder)
            if name != WORKER_FILE}


def service_worker(folder: Path) -> str:
    """static/sw.js with the site's precache list in front: its bytes change with any file of the site, which is
    how a browser learns that a new version exists."""
    files = precache_list(folder)
    version = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    header = f"const PRECACHE = {json.dumps({'version': version, 'files': files}, indent=1)};\n"
    return header + (STATIC / WORKER_FILE).read_text()


def _icon(task: Task, side: int, puzzle_text: str | None, size: int):
    """The puzzle drawn as the page draws it, inside the safe zone a maskable icon keeps on every launcher."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(image)
    grid = task.parse(puzzle_text, side) if puzzle_text else np.zeros((side, side), dtype=np.int64)
    inner, start = int(size * 0.62), int(size * 0.19)   # within the central 80% circle of a maskable icon
    cell = inner / side
    for r in range(side):
        for c in range(side):
            box = [start + c * cell, start + r * cell, start + (c + 1) * cell, start + (r + 1) * cell]
            draw.rectangle(box, fill=SHADES[task.shade(grid, r, c)], outline=(197, 203, 211), width=max(1, size // 256))
    boxes = task.boxes(side)
    if boxes:
        for k in range(0, side + 1, boxes[0]):
            y = start + k * cell
            draw.line([start, y, start + inner, y], fill=SHADES[1], width=max(2, size // 96))
        for k in range(0, side + 1, boxes[1]):
            x = start + k * cell
            draw.line([x, start, x, start + inner], fill=SHADES[1], width=max(2, size // 96))
    return image
