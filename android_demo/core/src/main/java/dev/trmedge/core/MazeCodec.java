package dev.trmedge.core;

/** Maze text in the official charset "# SGo" (wall, open, start, goal, path) <-> tokens 1..5. */
public final class MazeCodec {
    public static final String CHARSET = "# SGo";

    private MazeCodec() {}

    public static int[] encode(String maze) {
        int[] t = new int[maze.length()];
        for (int j = 0; j < t.length; j++) {
            int k = CHARSET.indexOf(maze.charAt(j));
            if (k < 0) throw new IllegalArgumentException("cell " + j + " is '" + maze.charAt(j) + "', not one of '" + CHARSET + "'");
            t[j] = k + 1;
        }
        return t;
    }

    public static String decode(int[] tokens) {
        StringBuilder b = new StringBuilder(tokens.length);
        for (int t : tokens) b.append(t >= 1 && t <= CHARSET.length() ? CHARSET.charAt(t - 1) : '?');
        return b.toString();
    }
}
