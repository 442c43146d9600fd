"""Copy an artifact where `android_demo` expects it, with a few held-out puzzles for its "New puzzle" button."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

from ..artifact import METADATA_FILE, PARITY_FILE, is_artifact, read_meta, source_path
from ..datasets.splits import DataSpec, puzzle_texts
from ..tasks import get_task
from ..files import check_writable_dir, replace_file
from ..ownership import MARKER
from .. import targets
from ..recursion import mode as recursion_mode

SAMPLES_FILE = "samples.txt"


def unsupported(target: str, recursion: str, batch: int, delegate: str) -> str | None:
    """Why android_demo cannot run such an artifact, or None when it can (checked before an export, and on
    the artifact itself before copying)."""
    if not targets.get(target).android_app or not recursion_mode(recursion).host_stepped or batch != 1:
        return ("android_demo runs `--target executorch --recursion step|net --batch 1` artifacts "
                f"(this one is {target}/{recursion}/batch {batch})")
    if delegate != "xnnpack":
        return (f"this program is lowered to the {delegate} delegate, which Android cannot run; "
                "export with the default --delegate xnnpack")
    return None


def check_assets_folder(dest: Path, names: Iterable[str]) -> None:
    """Refuse, before any work, a folder we cannot write or where copying would replace a file trm-edge did
    not put there: only files a previous copy of an artifact listed (and its samples) are ever replaced."""
    check_writable_dir(dest)
    owned = {METADATA_FILE, PARITY_FILE, SAMPLES_FILE}
    if is_artifact(dest):
        owned |= set(read_meta(dest).files)
    clashes = sorted(n for n in set(names) if ((dest / n).exists() or (dest / n).is_symlink()) and n not in owned)
    if clashes:
        raise FileExistsError(f"{dest} already holds {', '.join(clashes)}, which trm-edge did not write there: "
                              "move them or choose another --android-assets folder")


def copy_to_android_assets(artifact: Path, dest: Path, samples: int = 20) -> list[str]:
    meta = read_meta(artifact)
    reason = unsupported(meta.target, meta.recursion, meta.batch, meta.extra.get("delegate", "xnnpack"))
    if reason:
        raise ValueError(reason)
    files = [f for f in artifact.iterdir() if f.is_file() and f.name != MARKER]   # the marker is the folder's
    lines = _sample_puzzles(source_path(artifact, meta), samples)
    check_assets_folder(dest, [f.name for f in files] + ([SAMPLES_FILE] if lines else []))
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:   # each file replaced whole: a full disk leaves the old one, not a truncated one
        replace_file(dest / f.name, lambda tmp, src=f: shutil.copy2(src, tmp))
    if lines:
        replace_file(dest / SAMPLES_FILE, lambda tmp: tmp.write_text("\n".join(lines) + "\n"))
    return sorted(p.name for p in dest.iterdir())


def _sample_puzzles(checkpoint: Path, count: int) -> list[str]:
    """Held-out puzzles of the checkpoint's own data (none when it is not here or its task has no text form)."""
    from ..model.checkpoint import load_checkpoint

    if not checkpoint.is_file():
        return []
    spec = (load_checkpoint(checkpoint).info or {}).get("data_spec")
    if not spec:
        return []
    data_spec = DataSpec.from_saved(spec)
    return puzzle_texts(data_spec, count) if get_task(data_spec.task).solvable else []
