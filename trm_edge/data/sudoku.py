"""Sudoku of any box shape (4x4, 6x6, 9x9): solver, generator, token codec and the paper's augmentations."""
from __future__ import annotations

import numpy as np

from .puzzles import DatasetMeta, PuzzleSet

BOX_SHAPES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
BLANK_TOKEN = 1   # tokens: pad 0, blank 1, digit d -> d + 1


def box_shape(size: int) -> tuple[int, int]:
    if size not in BOX_SHAPES:
        raise ValueError(f"unsupported sudoku size {size}; choose one of {sorted(BOX_SHAPES)}")
    return BOX_SHAPES[size]


def vocab_size(size: int) -> int:
    return size + 2


def _candidates(grid: np.ndarray, r: int, c: int, br: int, bc: int) -> set[int]:
    n = grid.shape[0]
    r0, c0 = r - r % br, c - c % bc
    used = set(grid[r].tolist()) | set(grid[:, c].tolist()) | set(grid[r0:r0 + br, c0:c0 + bc].ravel().tolist())
    return {d for d in range(1, n + 1) if d not in used}


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of completions of `grid` (0 = blank), stopping at `limit`."""
    n = grid.shape[0]
    br, bc = box_shape(n)
    g = grid.copy()
    found = 0

    def solve() -> bool:
        nonlocal found
        best, best_cands = None, None
        for r, c in zip(*np.nonzero(g == 0)):
            cands = _candidates(g, r, c, br, bc)
            if best is None or len(cands) < len(best_cands):
                best, best_cands = (r, c), cands
                if len(cands) <= 1:
                    break
        if best is None:
            found += 1
            return found >= limit
        for d in best_cands:
            g[best] = d
            if solve():
                return True
        g[best] = 0
        return False

    solve()
    return found


def solve(grid: np.ndarray) -> np.ndarray | None:
    """One solution of `grid`, or None if it has none."""
    n = grid.shape[0]
    br, bc = box_shape(n)
    g = grid.copy()

    def rec() -> bool:
        zeros = np.argwhere(g == 0)
        if len(zeros) == 0:
            return True
        r, c = min(zeros, key=lambda rc: len(_candidates(g, rc[0], rc[1], br, bc)))
        for d in _candidates(g, r, c, br, bc):
            g[r, c] = d
            if rec():
                return True
        g[r, c] = 0
        return False

    return g if rec() else None


def is_valid_solution(grid: np.ndarray) -> bool:
    n = grid.shape[0]
    br, bc = box_shape(n)
    full = set(range(1, n + 1))
    rows = all(set(grid[r].tolist()) == full for r in range(n))
    cols = all(set(grid[:, c].tolist()) == full for c in range(n))
    boxes = all(set(grid[r:r + br, c:c + bc].ravel().tolist()) == full
                for r in range(0, n, br) for c in range(0, n, bc))
    return rows and cols and boxes


def random_solution(size: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly shuffled valid grid: base pattern + validity-preserving shuffles."""
    br, bc = box_shape(size)
    base = np.array([[(bc * (r % br) + r // br + c) % size for c in range(size)] for r in range(size)]) + 1
    return augment_sudoku(base, rng)


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


def make_puzzle(solution: np.ndarray, rng: np.random.Generator, difficulty: float = 1.0) -> np.ndarray:
    """Blank cells of `solution` in random order while the puzzle keeps a unique solution.

    `difficulty` in [0, 1] is the fraction of removal attempts made: 1.0 digs until no clue can go.
    """
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1] (got {difficulty})")
    puzzle = solution.copy()
    cells = rng.permutation(solution.size)
    for cell in cells[: int(round(difficulty * solution.size))]:
        r, c = divmod(int(cell), solution.shape[0])
        keep = puzzle[r, c]
        puzzle[r, c] = 0
        if count_solutions(puzzle, limit=2) != 1:
            puzzle[r, c] = keep
    return puzzle


def generate(count: int, size: int = 9, difficulty: float = 1.0, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` (puzzle, solution) pairs, blanks as 0."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        sol = random_solution(size, rng)
        pairs.append((make_puzzle(sol, rng, difficulty), sol))
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
