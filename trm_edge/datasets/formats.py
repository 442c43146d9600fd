"""Official on-disk formats: the raw CSVs and the built `dataset.json` + `all__*.npy` layout."""
from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..limits import CONFIG_LIMITS, check_count
from ..tasks import get_task
from ..data.puzzles import DatasetMeta, PuzzleSet

CSV_COLUMNS = ["source", "question", "answer", "rating"]
BUILT_ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")


def read_csv(path: str | Path, task: str, limit: int | None = None) -> PuzzleSet:
    """Read a sudoku-extreme or maze-hard CSV (`source,question,answer,rating`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no CSV at {path}")
    try:
        return _read_csv_rows(path, task, limit)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from None


def _read_csv_rows(path: Path, task: str, limit: int | None) -> PuzzleSet:
    inputs, labels = [], []
    task_obj = get_task(task)
    with path.open(newline="", encoding="utf-8-sig") as fh:   # -sig: a byte-order mark is not part of the header
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:4]] != CSV_COLUMNS:
            raise ValueError(f"{path}: expected header {','.join(CSV_COLUMNS)}, got {header}")
        first_size = None
        for lineno, row in enumerate(reader, start=2):
            if limit is not None and len(inputs) >= limit:
                break
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{lineno}: expected at least 3 columns")
            q, a = row[1].strip(), row[2].strip()
            if len(q) != len(a):
                raise ValueError(f"{path}:{lineno}: question has {len(q)} cells, answer {len(a)}")
            size = math.isqrt(len(q))
            if size * size != len(q) or size == 0:
                raise ValueError(f"{path}:{lineno}: {len(q)} cells is not a square grid")
            if first_size is not None and size != first_size:
                raise ValueError(f"{path}:{lineno}: a {size}x{size} grid, but earlier rows are {first_size}x{first_size}")
            first_size = size
            try:
                question, answer = task_obj.csv_pair(q, a, size)
                inputs.append(question)
                labels.append(answer)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: {exc}") from None
    if not inputs:
        raise ValueError(f"{path}: no puzzles")
    n = len(inputs)
    return PuzzleSet(np.stack(inputs), np.stack(labels), np.zeros(n, dtype=np.int64), task_obj.meta(size, n))


def write_csv(ps: PuzzleSet, path: str | Path, source: str = "trm-edge") -> None:
    """Write a PuzzleSet in the official CSV format (tasks with one: sudoku, maze)."""
    size = ps.meta.grid_shape[0]
    task = get_task(ps.meta.task)
    rows = [[source, task.to_text(task.decode(x, size)), task.to_text(task.decode(y, size)), 0]
            for x, y in zip(ps.inputs, ps.labels)]
    with _atomic_path(Path(path)) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)


def write_built(ps: PuzzleSet, folder: str | Path) -> None:
    """Write the official built layout: `dataset.json` and `all__*.npy` (one example per puzzle and group)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(ps)
    arrays = {
        "inputs": ps.inputs.astype(np.int32), "labels": ps.labels.astype(np.int32),
        "puzzle_identifiers": ps.puzzle_identifiers.astype(np.int32),
        "puzzle_indices": np.arange(n + 1, dtype=np.int32), "group_indices": np.arange(n + 1, dtype=np.int32),
    }
    for name, arr in arrays.items():
        np.save(folder / f"all__{name}.npy", arr)
    meta = ps.meta.to_dict() | {"total_groups": n, "total_puzzles": n, "mean_puzzle_examples": 1.0, "sets": ["all"]}
    (folder / "dataset.json").write_text(json.dumps(meta, indent=2))


def read_built(folder: str | Path, task: str | None = None, set_name: str = "all") -> PuzzleSet:
    """Read an official built split folder (e.g. `data/sudoku-extreme-1k-aug-1000/test`)."""
    folder = Path(folder)
    meta_path = folder / "dataset.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{folder} is not a built dataset folder: no dataset.json")
    try:
        raw = json.loads(meta_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta_path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{meta_path}: not a dataset description (a {type(raw).__name__})")
    missing = [k for k in ("vocab_size", "seq_len") if k not in raw]
    if missing:
        raise ValueError(f"{meta_path}: missing {', '.join(missing)}")
    try:
        meta = DatasetMeta.from_dict(raw)
        check_count("seq_len", meta.seq_len, 1, CONFIG_LIMITS["seq_len"])
        check_count("vocab_size", meta.vocab_size, 1, CONFIG_LIMITS["vocab_size"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{meta_path}: {exc}") from None
    if task:
        meta.task = task
    if meta.grid_shape is None:
        side = math.isqrt(meta.seq_len)
        meta.grid_shape = (side, side) if side * side == meta.seq_len else None
    arrays = {}
    for name in ("inputs", "labels", "puzzle_identifiers"):
        p = folder / f"{set_name}__{name}.npy"
        if not p.is_file():
            raise FileNotFoundError(f"{folder}: missing {p.name}")
        arrays[name] = _load_npy(p)
    if not (arrays["inputs"].ndim == arrays["labels"].ndim == 2 and arrays["inputs"].shape == arrays["labels"].shape
            and arrays["inputs"].shape[1] == meta.seq_len and len(arrays["puzzle_identifiers"]) == len(arrays["inputs"])):
        raise ValueError(f"{folder}: array shapes do not match each other or seq_len {meta.seq_len}")
    labels = arrays["labels"].astype(np.int64)
    return PuzzleSet(arrays["inputs"].astype(np.int64), labels, arrays["puzzle_identifiers"].astype(np.int64), meta)


def _load_npy(path: Path) -> np.ndarray:
    """An integer array, read only after its header's size is checked against the file (a crafted header can
    declare terabytes), and never as pickled objects."""
    try:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)   # maps the header's shape: fails if the file is shorter
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({str(exc).splitlines()[0][:120]})") from None
    if mapped.dtype.kind not in "iu":
        raise ValueError(f"{path}: holds {mapped.dtype} values, not integer tokens")
    return np.asarray(mapped).astype(np.int64)


class _atomic_path:
    """Context manager yielding a temp path that replaces `target` only on success."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> str:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".tmp")
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.target)
        elif os.path.exists(self.tmp):
            os.remove(self.tmp)
