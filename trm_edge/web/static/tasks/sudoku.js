// Sudoku on the page: the codec, text, rules and views (tries) of trm_edge/tasks/sudoku.py, and how a grid is drawn.
import { GridView, mulberry32, permutation } from "../views.js";

const BOX = { 4: [2, 2], 6: [2, 3], 9: [3, 3] };

// Copy `copy` of a puzzle (data/sudoku.view): the digit permutation; one draw whose lowest bit transposes (only
// with square boxes); the band order; each band's row order; the stack order; each stack's column order.
export const viewCount = () => 2 ** 31;
export function view(n, copy) {
  if (copy === 0) return GridView.identity(n);
  const [br, bc] = BOX[n], next = mulberry32(copy);
  const digits = permutation(next, n);
  const transpose = (next() & 1) === 1 && br === bc;
  const rows = permutation(next, n / br).flatMap((b) => permutation(next, br).map((r) => b * br + r));
  const cols = permutation(next, n / bc).flatMap((s) => permutation(next, bc).map((c) => s * bc + c));
  return new GridView(rows, cols, transpose, [0, ...digits.map((d) => d + 1)]);
}

export const hint = "row by row; <code>.</code> or <code>0</code> blank";
export const title = (side) => `TRM ${side}x${side} Sudoku`;

export function parse(text, n) {
  const cells = text.replace(/[\s|+\-]/g, "");
  if (cells.length !== n * n) throw new Error(`a ${n}x${n} puzzle has ${n * n} cells; this one has ${cells.length}`);
  const bad = [...new Set(cells)].filter((c) => !(c === "." || c === "0" || (c >= "1" && c <= String(n))));
  if (bad.length) throw new Error(`characters ${bad.join("")} are not cells of a ${n}x${n} sudoku ('.' or 0 blank, 1-${n})`);
  const grid = Array.from(cells, (c) => (c === "." ? 0 : Number(c)));
  const clash = firstConflict(grid, n);
  if (clash) throw new Error(`contradictory givens: ${clash}`);
  return grid;
}

export const display = (text) => text;                                           // one line, as typed
export const toText = (grid) => grid.join("");
export const encode = (grid) => Int32Array.from(grid, (d) => d + 1);             // blank 1, digit d -> d + 1
export const decode = (tokens) => Array.from(tokens, (t) => Math.max(0, t - 1));

function units(n) {
  const [br, bc] = BOX[n];
  const out = [];
  for (let r = 0; r < n; r++) out.push({ name: `row ${r + 1}`, idx: Array.from({ length: n }, (_, c) => r * n + c) });
  for (let c = 0; c < n; c++) out.push({ name: `column ${c + 1}`, idx: Array.from({ length: n }, (_, r) => r * n + c) });
  for (let b = 0; b < n; b++) {
    const r0 = Math.floor(b / (n / bc)) * br, c0 = (b % (n / bc)) * bc, idx = [];
    for (let r = 0; r < br; r++) for (let c = 0; c < bc; c++) idx.push((r0 + r) * n + c0 + c);
    out.push({ name: `box ${b + 1}`, idx });
  }
  return out;
}

function firstConflict(grid, n) {
  for (const u of units(n)) {
    const seen = new Set();
    for (const i of u.idx) {
      if (grid[i] && seen.has(grid[i])) return `${u.name} has two ${grid[i]}s`;
      seen.add(grid[i]);
    }
  }
  return null;
}

// How many solutions the puzzle has, up to `limit` (fewest candidates first, like data/sudoku_search.py); null when
// the search needs more than `budget` nodes (the page then says nothing rather than guess).
export function solutionCount(puzzle, n, limit = 2, budget = 20000) {
  const grid = puzzle.slice(), us = units(n), peers = grid.map(() => new Set());
  for (const u of us) for (const i of u.idx) for (const j of u.idx) if (i !== j) peers[i].add(j);
  let count = 0, nodes = 0;
  const search = () => {
    if (++nodes > budget) return false;
    let best = -1, bestOptions = null;
    for (let i = 0; i < grid.length; i++) {
      if (grid[i]) continue;
      const used = new Set([...peers[i]].map((j) => grid[j]));
      const options = Array.from({ length: n }, (_, d) => d + 1).filter((d) => !used.has(d));
      if (!bestOptions || options.length < bestOptions.length) { best = i; bestOptions = options; }
      if (options.length === 0) return true;
    }
    if (best < 0) { count++; return true; }
    for (const d of bestOptions) {
      grid[best] = d;
      if (!search()) return false;
      if (count >= limit) break;
    }
    grid[best] = 0;
    return true;
  };
  return search() ? count : null;
}

export function check(puzzle, answer, n) {
  if (answer.some((d) => d < 1 || d > n)) return false;
  if (puzzle.some((d, i) => d && d !== answer[i])) return false;
  return units(n).every((u) => new Set(u.idx.map((i) => answer[i])).size === n);
}

export function draw(table, puzzle, answer, previous, n) {
  const [br, bc] = BOX[n];
  table.innerHTML = "";
  table.className = "";
  for (let r = 0; r < n; r++) {
    const tr = table.insertRow();
    for (let c = 0; c < n; c++) {
      const i = r * n + c, td = tr.insertCell();
      const digit = answer ? answer[i] : puzzle[i];
      td.textContent = digit ? String(digit) : "";
      td.className = [puzzle[i] ? "given" : "", previous && previous[i] !== digit ? "changed" : "",
                      (c + 1) % bc === 0 && c + 1 < n ? "right" : "", (r + 1) % br === 0 && r + 1 < n ? "bottom" : ""]
        .join(" ").trim();
    }
  }
}
