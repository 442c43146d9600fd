"""Turn a data spec (built-in generator or a file on disk) into train/test PuzzleSets, by its task."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..budget import BUDGET
from ..files import cache_dir, remove_dead_temps
from ..data.puzzles import PuzzleSet
from ..data.spec import DataSpec
from ..tasks import Task, get_task
from . import formats


def task_of(spec: DataSpec) -> Task:
    """The task a spec's puzzles belong to (one-line error naming the known tasks)."""
    return get_task(spec.task)


def spec_for(saved: dict | None, task_hint: str | None = None, data_path: str | Path | None = None) -> DataSpec | None:
    """The data a checkpoint was trained on (`saved`, its stored DataSpec), or `data_path` read as that task."""
    if data_path:
        task = (saved or {}).get("task") or task_hint or "sudoku"
        return DataSpec(task=task, path=str(data_path))
    return DataSpec.from_saved(saved) if saved else None


def load_splits(spec: DataSpec) -> tuple[PuzzleSet, PuzzleSet]:
    """(train, test). Generated splits use disjoint seeds, and test drops any puzzle that is also in train."""
    if spec.path:
        return _load_path(spec, Path(spec.path), "train"), _load_path(spec, Path(spec.path), "test")
    _check_generated(spec)
    train = _generate(spec, spec.train_puzzles, spec.seed * 2 + 1)
    test = _generate(spec, spec.test_puzzles, spec.seed * 2 + 2)
    train_keys = {row.tobytes() for row in train.inputs}
    keep = np.array([row.tobytes() not in train_keys for row in test.inputs])
    return train, test.subset(keep)


HOLD_OUT_EVERY = 10   # a single CSV: rows 10, 20, 30, ... are the test split, the rest train


def split_note(spec: DataSpec) -> str | None:
    """What a user should be told about how their data was split."""
    if spec.path and Path(spec.path).is_file() and Path(spec.path).suffix == ".csv":
        return (f"{spec.path} is one file: every {HOLD_OUT_EVERY}th row is held out as the test split, "
                "the rest is training data")
    return None


def load_split(spec: DataSpec, split: str) -> PuzzleSet:
    """One split: 'train' or 'test' (see `load_splits`); 'all' reads a single CSV whole."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be train, test or all (got {split!r})")
    if split == "all" and not (spec.path and Path(spec.path).is_file()):
        split = "test"
    if spec.path:
        return _load_path(spec, Path(spec.path), split)
    return load_splits(spec)[0 if split == "train" else 1]


BAND_SEED = 1001   # held-out bands use their own seed, apart from the train (2s+1) and test (2s+2) splits


def parse_band(text: str) -> tuple[int, int] | None:
    """'minimal' (dig until no given can be removed) -> None; 'LO-HI' or 'N' -> a range of givens."""
    if text == "minimal":
        return None
    lo, _, hi = text.partition("-")
    try:
        band = (int(lo), int(hi or lo))
    except ValueError:
        raise ValueError(f"a band is 'minimal' or a givens range like 30-40 (got {text!r})") from None
    if band[0] > band[1]:
        raise ValueError(f"a givens range goes low-high (got {text!r})")
    return band


def band_split(spec: DataSpec, band: tuple[int, int] | None, count: int) -> PuzzleSet:
    """Held-out generated Sudoku puzzles in one difficulty band (a givens range, or None for minimal puzzles),
    none of which is in the training split: accuracy per band tells what a givens mix hides."""
    if not task_of(spec).has_bands or spec.path:
        raise ValueError("difficulty bands apply to checkpoints trained on generated sudoku")
    band_spec = dataclasses.replace(spec, givens=band, difficulty=1.0)
    _check_generated(band_spec)
    data = _generate(band_spec, count, spec.seed * 2 + BAND_SEED)
    train_keys = {row.tobytes() for row in load_split(spec, "train").inputs}
    return data.subset(np.array([row.tobytes() not in train_keys for row in data.inputs]))


def held_out(spec: DataSpec, count: int, band: str | None = None, whole_file: bool = False) -> PuzzleSet:
    """The puzzles a check runs on: `count` of one difficulty band ('minimal' or 'LO-HI' givens, generated
    Sudoku), else the first `count` of the test split; `whole_file`: a single CSV the user named is read whole."""
    if band is not None:
        return band_split(spec, parse_band(band), count)
    return load_split(spec, "all" if whole_file else "test").subset(slice(0, count))


def puzzle_texts(spec: DataSpec, count: int, band: str | None = None) -> list[str]:
    """Held-out puzzles as the text a person types (app sample buttons): the first `count` of the test split,
    or of one difficulty band."""
    data = held_out(spec, count, band)
    task, side = task_of(spec), data.meta.grid_shape[0]
    return [task.to_text(task.decode(x, side)) for x in data.inputs]


def _check_generated(spec: DataSpec) -> None:
    """Refuse, before any work, what the generators cannot make."""
    task_of(spec).check_spec(spec)


GENERATOR_VERSION = 1   # bump when a generator's output changes, so cached sets are rebuilt


def generated_dir() -> Path:
    return cache_dir() / "generated"


def _generate(spec: DataSpec, count: int, seed: int) -> PuzzleSet:
    """Generated puzzles, cached on disk (a 9x9 set of 20k puzzles takes about a minute to make)."""
    task = task_of(spec)
    key = f"{spec.task}-{spec.grid_size}-{spec.difficulty}{task.cache_key(spec)}-{count}-{seed}-v{GENERATOR_VERSION}"
    path = generated_dir() / f"{key}.npz"
    if path.is_file():
        try:
            with np.load(path) as f:
                return PuzzleSet(f["inputs"], f["labels"], f["puzzle_identifiers"], task.meta(spec.grid_size, count))
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    BUDGET.check_generated(count, f"the data spec ({spec.task} {spec.grid_size}x{spec.grid_size})")
    ps = task.generate(spec, count, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_temps(path.parent, f"{path.stem}.", ".tmp.npz")
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, inputs=ps.inputs, labels=ps.labels, puzzle_identifiers=ps.puzzle_identifiers)
        os.replace(tmp, path)
    except OSError:
        pass   # a read-only home only costs regeneration
    return ps


def _load_path(spec: DataSpec, path: Path, split: str) -> PuzzleSet:
    own = task_of(spec).read_folder(path, split)
    if own is not None:
        return own
    if path.is_dir() and (path / split / "dataset.json").is_file():
        return formats.read_built(path / split, task=spec.task)
    if path.is_dir() and (path / "dataset.json").is_file():
        return formats.read_built(path, task=spec.task)
    if path.is_dir() and (path / f"{split}.csv").is_file():
        return formats.read_csv(path / f"{split}.csv", spec.task,
                                limit=spec.train_puzzles if split == "train" else spec.test_puzzles)
    if path.is_file() and path.suffix == ".csv":
        rows = formats.read_csv(path, spec.task)
        if split == "all":
            return rows
        held_out = np.arange(len(rows)) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
        if not held_out.any():
            raise ValueError(f"{path}: {len(rows)} puzzles are too few to hold out a test split "
                             f"(every {HOLD_OUT_EVERY}th row); give a folder with train.csv and test.csv")
        return rows.subset(held_out if split == "test" else ~held_out)
    raise FileNotFoundError(f"{path}: expected a built dataset folder (with {split}/dataset.json), "
                            f"a folder with {split}.csv, or a .csv file")


def augment(ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
    """One fresh random augmentation of every row, by task."""
    return get_task(ps.meta.task).augment(ps, rng)
