package dev.trmedge.core;

import java.util.ArrayDeque;

/** The maze rules check (port of trm_edge/data/maze.py's is_shortest_path_answer): what tries accept a maze by. */
public final class MazeRules {
    public static final int WALL = 1, OPEN = 2, START = 3, GOAL = 4, PATH = 5;   // tokens of "# SGo"

    private MazeRules() {}

    /** The answer marks, on open cells only and changing nothing else, one shortest S-G path (any of several). */
    public static boolean accepts(int[] puzzle, int[] answer, int side) {
        if (answer.length != side * side || puzzle.length != answer.length) return false;
        int marked = 0;
        int[] walk = new int[puzzle.length];
        for (int i = 0; i < puzzle.length; i++) {
            boolean path = answer[i] == PATH;
            if (path ? puzzle[i] != OPEN : answer[i] != puzzle[i]) return false;
            if (path) marked++;
            walk[i] = path || puzzle[i] == START || puzzle[i] == GOAL ? puzzle[i] : WALL;   // only the marked route open
        }
        int length = shortestLength(puzzle, side);
        return length >= 0 && marked == length - 1 && shortestLength(walk, side) == length;
    }

    /** Steps of a shortest 4-connected S-G path, or -1 when G cannot be reached (or S or G is missing). */
    static int shortestLength(int[] grid, int side) {
        int start = indexOf(grid, START), goal = indexOf(grid, GOAL);
        if (start < 0 || goal < 0) return -1;
        int[] dist = new int[grid.length];
        java.util.Arrays.fill(dist, -1);
        dist[start] = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(start);
        while (!queue.isEmpty()) {
            int cell = queue.poll(), r = cell / side, c = cell % side;
            int[][] next = {{r + 1, c}, {r - 1, c}, {r, c + 1}, {r, c - 1}};
            for (int[] n : next) {
                if (n[0] < 0 || n[0] >= side || n[1] < 0 || n[1] >= side) continue;
                int k = n[0] * side + n[1];
                if (grid[k] == WALL || dist[k] >= 0) continue;
                dist[k] = dist[cell] + 1;
                queue.add(k);
            }
        }
        return dist[goal];
    }

    private static int indexOf(int[] grid, int value) {
        for (int i = 0; i < grid.length; i++) if (grid[i] == value) return i;
        return -1;
    }
}
