"""Compiled Sudoku search (numba): solution counting, digging and a human-technique rating.

A bitmask depth-first search with fewest-candidates-first ordering, compiled once by numba and
cached on disk. Grids are flat int arrays of length n*n (0 = blank) for any box shape (br x bc).
"""
from __future__ import annotations

import numba as nb
import numpy as np

_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << 9)], dtype=np.int32)


@nb.njit(cache=True)
def _box(r: int, c: int, n: int, br: int, bc: int) -> int:
    return (r // br) * (n // bc) + c // bc


@nb.njit(cache=True)
def _digit(bit: int) -> int:
    d = 1
    while (1 << (d - 1)) != bit:
        d += 1
    return d


@nb.njit(cache=True)
def _masks(g, n, br, bc):
    """Used-digit bitmasks of rows, columns and boxes; ok=False when the givens contradict."""
    rows, cols, boxes = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
    for i in range(n * n):
        if g[i]:
            r, c = i // n, i % n
            b, bit = _box(r, c, n, br, bc), 1 << (g[i] - 1)
            if (rows[r] | cols[c] | boxes[b]) & bit:
                return rows, cols, boxes, False
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
    return rows, cols, boxes, True


@nb.njit(cache=True)
def search(grid, n, br, bc, limit, solution):
    """(solutions found, capped at `limit`; search nodes visited). The first solution goes to `solution`."""
    g = grid.copy()
    rows, cols, boxes, ok = _masks(g, n, br, bc)
    if not ok:
        return 0, 0
    full = (1 << n) - 1
    stack_cell = np.empty(n * n, np.int32)
    stack_cands = np.empty(n * n, np.int32)
    depth, count, nodes = 0, 0, 0
    while True:
        best, best_k, best_cands = -1, 99, 0
        for i in range(n * n):
            if g[i] == 0:
                r, c = i // n, i % n
                cands = full & ~(rows[r] | cols[c] | boxes[_box(r, c, n, br, bc)])
                k = _POPCOUNT[cands]
                if k < best_k:
                    best, best_k, best_cands = i, k, cands
                    if k <= 1:
                        break
        if best == -1:
            count += 1
            if count == 1:
                solution[:] = g
            if count >= limit:
                return count, nodes
        elif best_k > 0:
            stack_cell[depth], stack_cands[depth] = best, best_cands
            depth += 1
        while True:   # take back the top frame's digit and place its next candidate, or pop it
            if depth == 0:
                return count, nodes
            cell = stack_cell[depth - 1]
            r, c = cell // n, cell % n
            b = _box(r, c, n, br, bc)
            if g[cell]:
                bit = ~(1 << (g[cell] - 1))
                rows[r] &= bit
                cols[c] &= bit
                boxes[b] &= bit
                g[cell] = 0
            cands = stack_cands[depth - 1]
            if cands == 0:
                depth -= 1
                continue
            bit = cands & -cands
            stack_cands[depth - 1] = cands ^ bit
            g[cell] = _digit(bit)
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            nodes += 1
            break


@nb.njit(cache=True)
def dig(puzzle, order, n, br, bc, target_givens):
    """Blank cells in `order` while the solution stays unique, stopping at `target_givens` givens."""
    scratch = np.empty(n * n, puzzle.dtype)
    givens = 0
    for i in range(n * n):
        givens += puzzle[i] != 0
    for cell in order:
        if givens <= target_givens:
            break
        keep = puzzle[cell]
        if keep == 0:
            continue
        puzzle[cell] = 0
        count, _ = search(puzzle, n, br, bc, 2, scratch)
        if count == 1:
            givens -= 1
        else:
            puzzle[cell] = keep


@nb.njit(cache=True)
def is_minimal(puzzle, n, br, bc):
    """True when removing any single given would admit a second solution."""
    g = puzzle.copy()
    scratch = np.empty(n * n, puzzle.dtype)
    for cell in range(n * n):
        keep = g[cell]
        if keep == 0:
            continue
        g[cell] = 0
        count, _ = search(g, n, br, bc, 2, scratch)
        g[cell] = keep
        if count == 1:
            return False
    return True


@nb.njit(cache=True)
def _units(n, br, bc):
    """Cell indices of every row, column and box: [3n, n]."""
    units = np.empty((3 * n, n), np.int32)
    for r in range(n):
        for c in range(n):
            units[r, c] = r * n + c
            units[n + c, r] = r * n + c
    for b in range(n):
        r0, c0 = (b // (n // bc)) * br, (b % (n // bc)) * bc
        for k in range(n):
            units[2 * n + b, k] = (r0 + k // bc) * n + c0 + k % bc
    return units


@nb.njit(cache=True)
def singles_level(puzzle, n, br, bc):
    """How far the two simplest human techniques go: 1 = naked singles solve it, 2 = hidden singles are
    needed too, 3 = neither is enough (pairs, chains or trial and error)."""
    g = puzzle.copy()
    rows, cols, boxes, ok = _masks(g, n, br, bc)
    if not ok:
        return 3
    units, full, level = _units(n, br, bc), (1 << n) - 1, 1
    while True:
        placed, blanks = False, 0
        for i in range(n * n):
            if g[i] == 0:
                blanks += 1
                r, c = i // n, i % n
                b = _box(r, c, n, br, bc)
                cands = full & ~(rows[r] | cols[c] | boxes[b])
                if _POPCOUNT[cands] == 1:
                    g[i] = _digit(cands)
                    rows[r] |= cands
                    cols[c] |= cands
                    boxes[b] |= cands
                    placed = True
        if blanks == 0:
            return level
        if placed:
            continue
        for u in range(3 * n):
            for d in range(n):
                bit, where, hits = 1 << d, -1, 0
                for cell in units[u]:
                    r, c = cell // n, cell % n
                    if g[cell] == 0 and not (rows[r] | cols[c] | boxes[_box(r, c, n, br, bc)]) & bit:
                        where, hits = cell, hits + 1
                if hits == 1:
                    r, c = where // n, where % n
                    g[where] = d + 1
                    rows[r] |= bit
                    cols[c] |= bit
                    boxes[_box(r, c, n, br, bc)] |= bit
                    placed, level = True, 2
        if not placed:
            return 3
