package dev.trmedge.core;

/** The Sudoku rules check (port of trm_edge/tasks/sudoku.py's check): what tries accept an answer by. */
public final class SudokuRules {
    private SudokuRules() {}

    /** A complete grid of digits 1..side obeying every row, column and box, that keeps every given of `puzzle`. */
    public static boolean accepts(int[] puzzle, int[] answer, int side) {
        if (answer.length != side * side || puzzle.length != answer.length) return false;
        for (int i = 0; i < answer.length; i++) {
            if (answer[i] < 1 || answer[i] > side) return false;
            if (puzzle[i] != 0 && puzzle[i] != answer[i]) return false;
        }
        int[] box = PuzzleViews.boxShape(side);
        for (int u = 0; u < side; u++) {
            boolean[] row = new boolean[side + 1], col = new boolean[side + 1], blk = new boolean[side + 1];
            int r0 = (u / (side / box[1])) * box[0], c0 = (u % (side / box[1])) * box[1];
            for (int j = 0; j < side; j++) {
                int a = answer[u * side + j], b = answer[j * side + u];
                int c = answer[(r0 + j / box[1]) * side + c0 + j % box[1]];
                if (row[a] || col[b] || blk[c]) return false;
                row[a] = col[b] = blk[c] = true;
            }
        }
        return true;
    }
}
