"""Mazes with a BFS shortest path, in the official Maze-Hard character set `# SGo`."""
from __future__ import annotations

from collections import deque

import numpy as np

from .puzzles import DatasetMeta, PuzzleSet
from .views import GridView

CHARSET = "# SGo"           # wall, open, start, goal, path -> tokens 1..5 (pad 0)
WALL, OPEN, START, GOAL, PATH = (CHARSET.index(ch) + 1 for ch in CHARSET)
VOCAB_SIZE = len(CHARSET) + 1


def shortest_path(grid: np.ndarray) -> list[tuple[int, int]] | None:
    """Cells of a shortest 4-connected path from S to G (both included), or None."""
    start = tuple(np.argwhere(grid == START)[0])
    goal = tuple(np.argwhere(grid == GOAL)[0])
    prev: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
    queue = deque([start])
    h, w = grid.shape
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = []
            while cell is not None:
                path.append(cell)
                cell = prev[cell]
            return path[::-1]
        r, c = cell
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < h and 0 <= nc < w and grid[nr, nc] != WALL and (nr, nc) not in prev:
                prev[(nr, nc)] = cell
                queue.append((nr, nc))
    return None


def shortest_path_count(grid: np.ndarray) -> tuple[int, int]:
    """(length in steps of a shortest S-G path, how many shortest paths there are); (-1, 0) when G is unreachable."""
    start = tuple(np.argwhere(grid == START)[0])
    goal = tuple(np.argwhere(grid == GOAL)[0])
    dist, ways, queue = {start: 0}, {start: 1}, deque([start])
    h, w = grid.shape
    while queue:
        r, c = queue.popleft()
        for cell in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if not (0 <= cell[0] < h and 0 <= cell[1] < w) or grid[cell] == WALL:
                continue
            if cell not in dist:
                dist[cell], ways[cell] = dist[(r, c)] + 1, ways[(r, c)]
                queue.append(cell)
            elif dist[cell] == dist[(r, c)] + 1:
                ways[cell] += ways[(r, c)]
    return (dist[goal], ways[goal]) if goal in dist else (-1, 0)


def is_shortest_path_answer(puzzle: np.ndarray, answer: np.ndarray) -> bool:
    """The answer marks, on open cells only, one shortest S-G path (any of them when there are several)."""
    marked = answer == PATH
    if not np.array_equal(np.where(marked, puzzle, answer), puzzle) or (puzzle[marked] != OPEN).any():
        return False
    length, _ = shortest_path_count(puzzle)
    if length < 0 or int(marked.sum()) != length - 1:
        return False
    walk = np.where(marked | (puzzle == START) | (puzzle == GOAL), puzzle, WALL)   # only the marked route is open
    return shortest_path_count(walk)[0] == length


def random_maze(size: int, rng: np.random.Generator, loop_fraction: float = 0.1) -> np.ndarray:
    """A depth-first-carved maze on a `size` x `size` grid with some extra openings (more than one route)."""
    if size < 5:
        raise ValueError(f"maze size must be >= 5 (got {size})")
    grid = np.full((size, size), WALL, dtype=np.int64)
    cells = [(r, c) for r in range(1, size - 1, 2) for c in range(1, size - 1, 2)]
    start = cells[rng.integers(len(cells))]
    grid[start] = OPEN
    stack, seen = [start], {start}
    while stack:
        r, c = stack[-1]
        nbrs = [(r + dr, c + dc) for dr, dc in ((2, 0), (-2, 0), (0, 2), (0, -2))
                if 0 < r + dr < size - 1 and 0 < c + dc < size - 1 and (r + dr, c + dc) not in seen]
        if not nbrs:
            stack.pop()
            continue
        nr, nc = nbrs[rng.integers(len(nbrs))]
        grid[(r + nr) // 2, (c + nc) // 2] = OPEN
        grid[nr, nc] = OPEN
        seen.add((nr, nc))
        stack.append((nr, nc))
    inner_walls = np.argwhere(grid[1:-1, 1:-1] == WALL) + 1
    for r, c in inner_walls[rng.random(len(inner_walls)) < loop_fraction]:
        grid[r, c] = OPEN
    return grid


def generate(count: int, size: int = 15, seed: int = 0, min_path: int | None = None,
             unique: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` (maze, solved maze) pairs: S and G placed far apart, the shortest path marked `o`. With `unique`
    (the default) only mazes with one shortest path are kept, so the label is the only right answer (about a
    third of 11x11 mazes with extra openings have several)."""
    rng = np.random.default_rng(seed)
    min_path = size if min_path is None else min_path
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    while len(pairs) < count:
        grid = random_maze(size, rng)
        opens = np.argwhere(grid == OPEN)
        s, g = opens[rng.choice(len(opens), 2, replace=False)]
        grid[tuple(s)], grid[tuple(g)] = START, GOAL
        path = shortest_path(grid)
        if path is None or len(path) < min_path or (unique and shortest_path_count(grid)[1] != 1):
            continue
        solved = grid.copy()
        for cell in path[1:-1]:
            solved[cell] = PATH
        pairs.append((grid, solved))
    return pairs


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """The k-th of the 8 dihedral transforms (rotations, then the transposed rotations)."""
    g = np.rot90(grid, k % 4)
    return np.ascontiguousarray(g.T if k >= 4 else g)


def view(side: int, copy: int) -> GridView:
    """Copy `copy` of a maze for tries: the dihedral transform d = copy mod 8 (no draws): rows reversed when
    d & 1, columns reversed when d & 2, then transposed when d & 4; copy 0 is the maze as given."""
    d = copy % 8
    order = np.arange(side)
    return GridView(order[::-1] if d & 1 else order, order[::-1] if d & 2 else order, bool(d & 4))


def to_text(grid: np.ndarray) -> str:
    return "".join(CHARSET[t - 1] for t in grid.reshape(-1))


def from_text(text: str, size: int) -> np.ndarray:
    bad = set(text) - set(CHARSET)
    if bad:
        raise ValueError(f"maze text has characters outside {CHARSET!r}: {sorted(bad)}")
    if len(text) != size * size:
        raise ValueError(f"maze text has {len(text)} cells, expected {size * size}")
    return np.array([CHARSET.index(ch) + 1 for ch in text], dtype=np.int64).reshape(size, size)


def meta(size: int, count: int) -> DatasetMeta:
    return DatasetMeta(vocab_size=VOCAB_SIZE, seq_len=size * size, total_groups=count, total_puzzles=count,
                       task="maze", grid_shape=(size, size))


def to_puzzle_set(pairs: list[tuple[np.ndarray, np.ndarray]]) -> PuzzleSet:
    size = pairs[0][0].shape[0]
    inputs = np.stack([m.reshape(-1) for m, _ in pairs])
    labels = np.stack([s.reshape(-1) for _, s in pairs])
    return PuzzleSet(inputs, labels, np.zeros(len(pairs), dtype=np.int64), meta(size, len(pairs)))


def augment_set(ps: PuzzleSet, rng: np.random.Generator) -> PuzzleSet:
    size = ps.meta.grid_shape[0]
    ks = rng.integers(0, 8, len(ps))
    inputs = np.stack([dihedral(x.reshape(size, size), k).reshape(-1) for x, k in zip(ps.inputs, ks)])
    labels = np.stack([dihedral(y.reshape(size, size), k).reshape(-1) for y, k in zip(ps.labels, ks)])
    return PuzzleSet(inputs, labels, ps.puzzle_identifiers.copy(), ps.meta)
