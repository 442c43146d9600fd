package dev.trmedge.core;

/**
 * Views of a puzzle for tries (port of trm_edge/data/views.py, sudoku.view and maze.view): copy k of a puzzle
 * under a validity-preserving transform drawn by the documented rule, so the app tries the same copies in the
 * same order as Python and the web page. Copy 0 is the puzzle as given; copy k draws from mulberry32(k), an
 * integer below m is next() % m (unsigned), a permutation is Fisher-Yates from the top.
 */
public final class PuzzleViews {
    private PuzzleViews() {}

    /** The 32-bit generator of the rule. */
    static final class Mulberry32 {
        private int a;

        Mulberry32(int seed) {
            a = seed;
        }

        int next() {
            a += 0x6D2B79F5;
            int t = a;
            t = (t ^ (t >>> 15)) * (t | 1);
            t ^= t + (t ^ (t >>> 7)) * (t | 61);
            return t ^ (t >>> 14);
        }

        int below(int m) {
            return Integer.remainderUnsigned(next(), m);
        }
    }

    static int[] permutation(Mulberry32 rng, int n) {
        int[] items = new int[n];
        for (int i = 0; i < n; i++) items[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.below(i + 1);
            int tmp = items[i];
            items[i] = items[j];
            items[j] = tmp;
        }
        return items;
    }

    /** Rows and columns reordered, then maybe transposed, then cell values relabelled (values[v] is v's new value). */
    public static final class View {
        final int[] rows;
        final int[] cols;
        final boolean transpose;
        final int[] values;   // null: values kept

        View(int[] rows, int[] cols, boolean transpose, int[] values) {
            this.rows = rows;
            this.cols = cols;
            this.transpose = transpose;
            this.values = values;
        }

        /** The view of a row-major side x side grid of cell values. */
        public int[] apply(int[] grid) {
            int n = rows.length;
            int[] out = new int[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    int v = grid[rows[i] * n + cols[j]];
                    out[transpose ? j * n + i : i * n + j] = values == null ? v : values[v];
                }
            }
            return out;
        }

        /** An answer of the view mapped back to the puzzle as given. */
        public int[] undo(int[] grid) {
            int n = rows.length;
            int[] inverse = null;
            if (values != null) {
                inverse = new int[values.length];
                for (int v = 0; v < values.length; v++) inverse[values[v]] = v;
            }
            int[] out = new int[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    int v = grid[transpose ? j * n + i : i * n + j];
                    out[rows[i] * n + cols[j]] = inverse == null ? v : inverse[v];
                }
            }
            return out;
        }
    }

    static View identity(int side) {
        int[] order = new int[side];
        for (int i = 0; i < side; i++) order[i] = i;
        return new View(order, order.clone(), false, null);
    }

    /** Box shape (rows, cols) of a side x side sudoku: 4 -> 2x2, 6 -> 2x3, 9 -> 3x3. */
    static int[] boxShape(int side) {
        switch (side) {
            case 4: return new int[] {2, 2};
            case 6: return new int[] {2, 3};
            case 9: return new int[] {3, 3};
            default: throw new IllegalArgumentException("unsupported sudoku size " + side);
        }
    }

    /**
     * Copy `copy` of a sudoku (cell values: 0 blank, digits 1..side). Draws, in order: the digit permutation;
     * one draw whose lowest bit transposes (only with square boxes); the band order; each band's row order (bands
     * in their new order); the stack order; each stack's column order.
     */
    public static View sudoku(int side, int copy) {
        if (copy == 0) return identity(side);
        int[] box = boxShape(side);
        int br = box[0], bc = box[1];
        Mulberry32 rng = new Mulberry32(copy);
        int[] digits = permutation(rng, side);
        boolean transpose = (rng.next() & 1) == 1 && br == bc;
        int[] rows = new int[side];
        int k = 0;
        for (int band : permutation(rng, side / br)) {
            for (int r : permutation(rng, br)) rows[k++] = band * br + r;
        }
        int[] cols = new int[side];
        k = 0;
        for (int stack : permutation(rng, side / bc)) {
            for (int c : permutation(rng, bc)) cols[k++] = stack * bc + c;
        }
        int[] values = new int[side + 1];
        for (int d = 1; d <= side; d++) values[d] = digits[d - 1] + 1;
        return new View(rows, cols, transpose, values);
    }

    /** Copy `copy` of a maze: d = copy mod 8; rows reversed when d & 1, columns when d & 2, transposed when d & 4. */
    public static View maze(int side, int copy) {
        int d = copy % 8;
        int[] rows = new int[side];
        int[] cols = new int[side];
        for (int i = 0; i < side; i++) {
            rows[i] = (d & 1) != 0 ? side - 1 - i : i;
            cols[i] = (d & 2) != 0 ? side - 1 - i : i;
        }
        return new View(rows, cols, (d & 4) != 0, null);
    }
}
