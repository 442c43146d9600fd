"""Copy an artifact where `android_demo` expects it, with a few held-out puzzles for its "New puzzle" button."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..data import DataSpec, load_split
from ..data import maze, sudoku
from ..artifact import read_meta
from ..targets import HOST_STEPPED


def copy_to_android_assets(artifact: Path, dest: Path, samples: int = 20) -> list[str]:
    meta = read_meta(artifact)
    if meta.target != "executorch" or meta.recursion not in HOST_STEPPED or meta.batch != 1:
        raise ValueError("android_demo runs `--target executorch --recursion step|net --batch 1` artifacts "
                         f"(this one is {meta.target}/{meta.recursion}/batch {meta.batch})")
    if meta.extra.get("delegate", "xnnpack") != "xnnpack":
        raise ValueError(f"this program is lowered to the {meta.extra['delegate']} delegate, which Android cannot run; "
                         "export with the default --delegate xnnpack")
    dest.mkdir(parents=True, exist_ok=True)
    for f in artifact.iterdir():
        if f.is_file():
            shutil.copy2(f, dest / f.name)
    lines = _sample_puzzles(Path(meta.source_checkpoint), meta.task, samples)
    if lines:
        (dest / "samples.txt").write_text("\n".join(lines) + "\n")
    return sorted(p.name for p in dest.iterdir())


def _sample_puzzles(checkpoint: Path, task: str, count: int) -> list[str]:
    from ..model.checkpoint import load_checkpoint

    if not checkpoint.is_file():
        return []
    spec = (load_checkpoint(checkpoint).info or {}).get("data_spec")
    if not spec or task not in ("sudoku", "maze"):
        return []
    data = load_split(DataSpec.from_saved(spec), "test").subset(slice(0, count))
    side = data.meta.grid_shape[0]
    if task == "sudoku":
        return ["".join("." if d == 0 else str(d) for d in sudoku.decode(x, side).ravel()) for x in data.inputs]
    return [maze.to_text(x) for x in data.inputs]
