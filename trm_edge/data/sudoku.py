"""Sudoku of any box shape (4x4, 6x6, 9x9): solver, generator, token codec and the paper's augmentations."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from .puzzles import DatasetMeta, PuzzleSet
from .views import GridView, mulberry32, permutation

BOX_SHAPES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
BLANK_TOKEN = 1   # tokens: pad 0, blank 1, digit d -> d + 1


def box_shape(size: int) -> tuple[int, int]:
    if size not in BOX_SHAPES:
        raise ValueError(f"unsupported sudoku size {size}; choose one of {sorted(BOX_SHAPES)}")
    return BOX_SHAPES[size]


def vocab_size(size: int) -> int:
    return size + 2


def _compiled():
    """The numba-compiled search, imported on first use: reading, checking and encoding grids needs no numba."""
    from . import sudoku_search

    return sudoku_search


def _flat(grid: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    n = grid.shape[0]
    br, bc = box_shape(n)
    return np.ascontiguousarray(grid, dtype=np.int64).reshape(-1), n, br, bc


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of completions of `grid` (0 = blank), stopping at `limit`."""
    flat, n, br, bc = _flat(grid)
    count, _ = _compiled().search(flat, n, br, bc, limit, np.empty_like(flat))
    return int(count)


def solve(grid: np.ndarray) -> np.ndarray | None:
    """One solution of `grid`, or None if it has none."""
    flat, n, br, bc = _flat(grid)
    out = np.empty_like(flat)
    count, _ = _compiled().search(flat, n, br, bc, 1, out)
    return out.reshape(n, n).astype(grid.dtype) if count else None


class Technique(IntEnum):
    """The simplest human technique set that solves a puzzle (the rating users read)."""

    NAKED_SINGLES = 1
    HIDDEN_SINGLES = 2
    BEYOND_SINGLES = 3   # pairs, chains or trial and error


@dataclass(frozen=True)
class Rating:
    """How hard a puzzle is: clues given, the techniques a human needs, and the size of the search tree
    a fewest-candidates-first solver walks to prove the solution unique."""

    givens: int
    technique: Technique
    search_nodes: int

    def to_dict(self) -> dict:
        return {"givens": self.givens, "technique": self.technique.name.lower(), "search_nodes": self.search_nodes}


def rate(puzzle: np.ndarray) -> Rating:
    flat, n, br, bc = _flat(puzzle)
    _, nodes = _compiled().search(flat, n, br, bc, 2, np.empty_like(flat))
    level = _compiled().singles_level(flat, n, br, bc)
    return Rating(int((flat != 0).sum()), Technique(int(level)), int(nodes))


def is_minimal(puzzle: np.ndarray) -> bool:
    """No given can be removed without losing uniqueness."""
    flat, n, br, bc = _flat(puzzle)
    return bool(_compiled().is_minimal(flat, n, br, bc))


def is_valid_solution(grid: np.ndarray) -> bool:
    """Every row, column and box holds each digit 1..n exactly once."""
    n = grid.shape[0]
    br, bc = box_shape(n)
    full = np.arange(1, n + 1)
    boxes = grid.reshape(n // br, br, n // bc, bc).transpose(0, 2, 1, 3).reshape(n, n)
    return all(bool((np.sort(units, axis=1) == full).all()) for units in (grid, grid.T, boxes))


def parse(text: str, expected_size: int | None = None) -> np.ndarray:
    """A puzzle string (n*n cells, row by row; '.' or '0' blank, digits 1..n; spaces, '|', '-', '+' and line
    breaks ignored) -> digit grid. Refuses bad length, bad characters and contradictory givens."""
    cells = "".join(ch for ch in text if ch not in " \t\r\n|-+")
    sizes = [n for n in BOX_SHAPES if n * n == len(cells)]
    if not sizes:
        expected = f"{expected_size * expected_size}" if expected_size else "16, 36 or 81"
        raise ValueError(f"a sudoku puzzle has {expected} cells; this one has {len(cells)}")
    size = sizes[0]
    if expected_size and size != expected_size:
        raise ValueError(f"a {size}x{size} puzzle, but the model was trained on {expected_size}x{expected_size}")
    grid = cells_to_grid(cells, size)
    clash = first_conflict(grid)
    if clash:
        raise ValueError(f"contradictory givens: {clash}")
    return grid


def cells_to_grid(cells: str, size: int) -> np.ndarray:
    """n*n cell characters -> digit grid: '.' or '0' blank, ASCII digits 1..n (not '²' or fullwidth digits,
    which Python also calls digits)."""
    allowed = ".0" + "123456789"[:size]
    bad = sorted({ch for ch in cells if ch not in allowed})
    if bad:
        raise ValueError(f"characters {''.join(bad)!r} are not cells of a {size}x{size} sudoku ('.' or 0 blank, 1-{size})")
    return np.array([0 if ch == "." else int(ch) for ch in cells], dtype=np.int64).reshape(size, size)


def first_conflict(grid: np.ndarray) -> str | None:
    """Where two equal digits share a row, column or box ('row 1 has two 5s'), or None."""
    n = grid.shape[0]
    br, bc = box_shape(n)
    units = [(f"row {r + 1}", grid[r]) for r in range(n)] + [(f"column {c + 1}", grid[:, c]) for c in range(n)]
    units += [(f"box {b + 1}", grid[(b // (n // bc)) * br:(b // (n // bc)) * br + br,
                                    (b % (n // bc)) * bc:(b % (n // bc)) * bc + bc].ravel()) for b in range(n)]
    for name, cells in units:
        digits, counts = np.unique(cells[cells > 0], return_counts=True)
        if (counts > 1).any():
            return f"{name} has two {int(digits[counts > 1][0])}s"
    return None


def to_text(grid: np.ndarray) -> str:
    return "".join("." if d == 0 else str(int(d)) for d in grid.ravel())


GRID_SOURCES = ("varied", "pattern")


def random_solution(size: int, rng: np.random.Generator, grids: str = "varied") -> np.ndarray:
    """A random valid grid, then one random validity-preserving shuffle.

    'varied' (the default): the diagonal boxes (square boxes) or the first row (6x6) are filled at random and the
    search completes the grid, so solutions come from many essentially different grids. 'pattern' (trm-edge
    before 0.2): shuffles of one base pattern, i.e. every solution is the same grid up to symmetry, a quirk a
    model can learn and puzzles from elsewhere do not share."""
    if grids not in GRID_SOURCES:
        raise ValueError(f"grids must be one of {GRID_SOURCES} (got {grids!r})")
    br, bc = box_shape(size)
    if grids == "pattern":
        base = np.array([[(bc * (r % br) + r // br + c) % size for c in range(size)] for r in range(size)]) + 1
        return augment_sudoku(base, rng)
    for _ in range(100):   # 9x9 diagonal boxes always complete; a 4x4 draw sometimes does not: draw again
        seed = np.zeros((size, size), dtype=np.int64)
        if br == bc:
            for b in range(0, size, br):
                seed[b:b + br, b:b + bc] = (rng.permutation(size) + 1).reshape(br, bc)
        else:
            seed[0] = rng.permutation(size) + 1
        full = solve(seed)
        if full is not None:
            return augment_sudoku(full, rng)
    raise RuntimeError("could not complete a random sudoku seed")


def augment_sudoku(grid: np.ndarray, rng: np.random.Generator, *others: np.ndarray):
    """Apply one random validity-preserving transform to `grid` (and the same one to `others`).

    Digit permutation, band and row-in-band shuffles, stack and column-in-stack shuffles,
    and transposition when boxes are square (the paper's Sudoku augmentations).
    """
    n = grid.shape[0]
    br, bc = box_shape(n)
    digit_map = np.concatenate([[0], rng.permutation(n) + 1])
    rows = np.concatenate([b * br + rng.permutation(br) for b in rng.permutation(n // br)])
    cols = np.concatenate([s * bc + rng.permutation(bc) for s in rng.permutation(n // bc)])
    transpose = br == bc and rng.random() < 0.5

    def apply(g: np.ndarray) -> np.ndarray:
        g = g.T if transpose else g
        return digit_map[g[rows][:, cols]]

    out = [apply(grid)] + [apply(o) for o in others]
    return out[0] if not others else tuple(out)


def view(side: int, copy: int) -> GridView:
    """Copy `copy` of a side x side Sudoku for tries (the deterministic rule of data/views.py; copy 0 is the puzzle).
    Draws, in order: the digit permutation (digit d becomes perm[d-1] + 1); one draw whose lowest bit transposes
    (applied only when boxes are square); the band order; for each band in that order, the order of its rows; the
    stack order; for each stack in that order, the order of its columns."""
    if copy == 0:
        return GridView.identity(side)
    br, bc = box_shape(side)
    rng = mulberry32(copy)
    digits = permutation(rng, side)
    transpose = bool(next(rng) & 1) and br == bc
    rows = np.concatenate([b * br + permutation(rng, br) for b in permutation(rng, side // br)])
    cols = np.concatenate([s * bc + permutation(rng, bc) for s in permutation(rng, side // bc)])
    return GridView(rows, cols, transpose, np.concatenate([[0], digits + 1]))


def make_puzzle(solution: np.ndarray, rng: np.random.Generator, difficulty: float = 1.0,
                givens: int | None = None) -> np.ndarray:
    """Blank cells of `solution` in random order while the puzzle keeps a unique solution.

    `difficulty` in [0, 1] is the fraction of removal attempts made: 1.0 digs until no clue can go (a minimal
    puzzle). `givens` stops digging once the puzzle is down to that many clues (or minimal, if that comes first).
    """
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1] (got {difficulty})")
    flat, n, br, bc = _flat(solution)
    order = rng.permutation(solution.size)[: int(round(difficulty * solution.size))].astype(np.int64)
    puzzle = flat.copy()
    _compiled().dig(puzzle, order, n, br, bc, -1 if givens is None else int(givens))
    return puzzle.reshape(n, n).astype(solution.dtype)


def generate(count: int, size: int = 9, difficulty: float = 1.0, seed: int = 0,
             givens: tuple[int, int] | None = None, grids: str = "varied") -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` (puzzle, solution) pairs, blanks as 0. With `givens=(lo, hi)` each puzzle is dug to a number of
    clues drawn uniformly from [lo, hi] (fewer is impossible once it is minimal)."""
    box_shape(size)
    if givens is not None and not (0 <= givens[0] <= givens[1] <= size * size):
        raise ValueError(f"givens must be a range lo-hi within 0-{size * size} (got {givens[0]}-{givens[1]})")
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        sol = random_solution(size, rng, grids)
        target = None if givens is None else int(rng.integers(givens[0], givens[1] + 1))
        pairs.append((make_puzzle(sol, rng, difficulty, target), sol))
    return pairs


def encode(grid: np.ndarray) -> np.ndarray:
    """Digits 0 (blank)..n -> tokens 1..n+1."""
    return grid.reshape(-1).astype(np.int64) + 1


def decode(tokens: np.ndarray, size: int) -> np.ndarray:
    """Tokens -> digit grid; pad/blank become 0."""
    return np.clip(np.asarray(tokens).reshape(size, size) - 1, 0, None)


def meta(size: int, count: int) -> DatasetMeta:
    return DatasetMeta(vocab_size=vocab_size(size), seq_len=size * size, total_groups=count,
                       total_puzzles=count, task="sudoku", grid_shape=(size, size))


def to_puzzle_set(pairs: list[tuple[np.ndarray, np.ndarray]]) -> PuzzleSet:
    size = pairs[0][0].shape[0]
    inputs = np.stack([encode(p) for p, _ in pairs])
    labels = np.stack([encode(s) for _, s in pairs])
    return PuzzleSet(inputs, labels, np.zeros(len(pairs), dtype=np.int64), meta(size, len(pairs)))


def augment_set(ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
    """A freshly augmented copy (one random transform per row)."""
    size = ps.meta.grid_shape[0]
    inputs, labels = [], []
    for x, y in zip(ps.inputs, ps.labels):
        a, b = augment_sudoku(decode(x, size), rng, decode(y, size))
        inputs.append(encode(a))
        labels.append(encode(b))
    return PuzzleSet(np.stack(inputs), np.stack(labels), ps.puzzle_identifiers.copy(), ps.meta)
