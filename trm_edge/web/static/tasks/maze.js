// Mazes on the page: the official Maze-Hard characters of trm_edge/tasks/maze.py ("# SGo": wall, open, start,
// goal, path -> tokens 1..5), the shortest-path rules check, and how a maze is drawn.
import { GridView } from "../views.js";

const CHARSET = "# SGo";

// Copy `copy` of a maze (data/maze.view): d = copy mod 8; rows reversed when d & 1, columns when d & 2, then
// transposed when d & 4 (the symmetries the model was trained with).
export const viewCount = () => 8;
export function view(n, copy) {
  const d = copy % 8, order = Array.from({ length: n }, (_, i) => i);
  return new GridView(d & 1 ? order.slice().reverse() : order, d & 2 ? order.slice().reverse() : order.slice(), !!(d & 4));
}
const [WALL, OPEN, START, GOAL, PATH] = [1, 2, 3, 4, 5];

export const hint = "one row per line: <code>#</code> wall, space open, <code>S</code> start, <code>G</code> goal";
export const title = (side) => `TRM ${side}x${side} maze (shortest path)`;

export function parse(text, n) {
  const cells = text.replace(/\r/g, "").split("\n").join("");
  if (cells.length !== n * n) throw new Error(`a maze for this model has ${n * n} cells; this one has ${cells.length}`);
  const bad = [...new Set(cells)].filter((c) => !"# SG".includes(c));
  if (bad.length) throw new Error(`characters ${bad.join("")} are not maze cells ('#', ' ', 'S', 'G')`);
  const grid = Array.from(cells, (c) => CHARSET.indexOf(c) + 1);
  for (const [value, name] of [[START, "S"], [GOAL, "G"]]) {
    const count = grid.filter((v) => v === value).length;
    if (count !== 1) throw new Error(`a maze needs exactly one ${name} (this one has ${count})`);
  }
  return grid;
}

export const display = (text, n) => Array.from({ length: n }, (_, r) => text.slice(r * n, (r + 1) * n)).join("\n");
export const toText = (grid) => grid.map((v) => CHARSET[v - 1] ?? "?").join("");
export const encode = (grid) => Int32Array.from(grid);
export const decode = (tokens) => Array.from(tokens);

function distance(grid, n, open) {
  // Breadth-first steps from S to G over cells `open` accepts; -1 when G cannot be reached.
  const start = grid.indexOf(START), goal = grid.indexOf(GOAL), dist = new Int32Array(n * n).fill(-1);
  const queue = [start];
  dist[start] = 0;
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head], r = Math.floor(i / n), c = i % n;
    for (const [rr, cc] of [[r + 1, c], [r - 1, c], [r, c + 1], [r, c - 1]]) {
      const j = rr * n + cc;
      if (rr < 0 || rr >= n || cc < 0 || cc >= n || dist[j] >= 0 || !open(j)) continue;
      dist[j] = dist[i] + 1;
      queue.push(j);
    }
  }
  return dist[goal];
}

export function check(puzzle, answer, n) {
  // The answer marks, on open cells only, one shortest S-G path (any of them when there are several).
  if (answer.some((v, i) => (v === PATH ? puzzle[i] !== OPEN : v !== puzzle[i]))) return false;
  const length = distance(puzzle, n, (j) => puzzle[j] !== WALL);
  const marked = answer.filter((v) => v === PATH).length;
  if (length < 0 || marked !== length - 1) return false;
  return distance(puzzle, n, (j) => answer[j] === PATH || puzzle[j] === START || puzzle[j] === GOAL) === length;
}

export function draw(table, puzzle, answer, previous, n) {
  table.innerHTML = "";
  table.className = "maze";
  for (let r = 0; r < n; r++) {
    const tr = table.insertRow();
    for (let c = 0; c < n; c++) {
      const i = r * n + c, td = tr.insertCell(), value = answer ? answer[i] : puzzle[i];
      td.textContent = value === START ? "S" : value === GOAL ? "G" : "";
      td.className = [{ [WALL]: "wall", [PATH]: "path" }[value] ?? "", previous && previous[i] !== value ? "changed" : ""]
        .join(" ").trim();
    }
  }
}
