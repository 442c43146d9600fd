package dev.trmedge.core;

/** Sudoku text <-> tokens as in the official datasets: pad 0, blank 1, digit d -> d + 1. */
public final class SudokuCodec {
    private SudokuCodec() {}

    /** "..3.1..." (row-major, '.' or '0' for blanks) to tokens; the length must be a square of 4, 6 or 9 cells a side. */
    public static int[] encode(String puzzle) {
        int n = side(puzzle.length());
        int[] t = new int[puzzle.length()];
        for (int j = 0; j < t.length; j++) {
            char c = puzzle.charAt(j);
            if (c == '.' || c == '0') t[j] = 1;
            else if (c >= '1' && c <= '0' + n) t[j] = c - '0' + 1;
            else throw new IllegalArgumentException("cell " + j + " is '" + c + "', expected '.' or 1.." + n);
        }
        return t;
    }

    /** Tokens to text, blanks as '.'. */
    public static String decode(int[] tokens) {
        StringBuilder b = new StringBuilder(tokens.length);
        for (int t : tokens) b.append(t <= 1 ? '.' : (char) ('0' + t - 1));
        return b.toString();
    }

    public static int side(int cells) {
        int n = (int) Math.round(Math.sqrt(cells));
        if (n * n != cells || (n != 4 && n != 6 && n != 9)) {
            throw new IllegalArgumentException(cells + " cells is not a 4x4, 6x6 or 9x9 sudoku");
        }
        return n;
    }
}
