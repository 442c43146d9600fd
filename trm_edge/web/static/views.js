// Views of a puzzle for tries (port of trm_edge/data/views.py): copy k of a puzzle under a validity-preserving
// transform drawn by the documented rule, so the page tries the same copies in the same order as Python and the
// Android core. Copy 0 is the puzzle as given; copy k draws from mulberry32(k), an integer below m is
// next() % m (unsigned), a permutation is Fisher-Yates from the top. Each task module says which draws it makes.

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function permutation(next, n) {
  const items = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// Rows and columns reordered, then maybe transposed, then cell values relabelled (values[v]: v's new value).
export class GridView {
  constructor(rows, cols, transpose = false, values = null) {
    Object.assign(this, { rows, cols, transpose, values });
  }

  static identity(n) {
    const order = Array.from({ length: n }, (_, i) => i);
    return new GridView(order, order.slice());
  }

  apply(grid) {
    const n = this.rows.length, out = new Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = grid[this.rows[i] * n + this.cols[j]];
        out[this.transpose ? j * n + i : i * n + j] = this.values ? this.values[v] : v;
      }
    }
    return out;
  }

  undo(grid) {
    const n = this.rows.length, out = new Array(n * n);
    const inverse = this.values ? Array.from(this.values.keys(), (v) => this.values.indexOf(v)) : null;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = grid[this.transpose ? j * n + i : i * n + j];
        out[this.rows[i] * n + this.cols[j]] = inverse ? inverse[v] : v;
      }
    }
    return out;
  }
}
