package dev.trmedge.core;

/**
 * What tries need of a task (port of trm_edge/tasks: its codec, rules check and views). Cells are the task's own
 * values: Sudoku digits (0 blank), maze tokens 1..5 ("# SGo").
 */
public interface PuzzleTask {
    int[] toTokens(int[] cells);

    int[] fromTokens(int[] tokens);

    /** The rules accept `answer` as a solution of `puzzle` as given. */
    boolean accepts(int[] puzzle, int[] answer, int side);

    /** Copy `copy` of a side x side puzzle (copy 0: the puzzle as given). */
    PuzzleViews.View view(int side, int copy);

    /** How many distinct copies exist (more tries would repeat them). */
    long viewCount(int side);

    PuzzleTask SUDOKU = new PuzzleTask() {
        @Override public int[] toTokens(int[] cells) {
            int[] t = new int[cells.length];
            for (int i = 0; i < t.length; i++) t[i] = cells[i] + 1;   // blank 1, digit d -> d + 1
            return t;
        }

        @Override public int[] fromTokens(int[] tokens) {
            int[] d = new int[tokens.length];
            for (int i = 0; i < d.length; i++) d[i] = Math.max(0, tokens[i] - 1);
            return d;
        }

        @Override public boolean accepts(int[] puzzle, int[] answer, int side) {
            return SudokuRules.accepts(puzzle, answer, side);
        }

        @Override public PuzzleViews.View view(int side, int copy) {
            return PuzzleViews.sudoku(side, copy);
        }

        @Override public long viewCount(int side) {
            return 1L << 31;
        }
    };

    PuzzleTask MAZE = new PuzzleTask() {
        @Override public int[] toTokens(int[] cells) {
            return cells.clone();
        }

        @Override public int[] fromTokens(int[] tokens) {
            return tokens.clone();
        }

        @Override public boolean accepts(int[] puzzle, int[] answer, int side) {
            return MazeRules.accepts(puzzle, answer, side);
        }

        @Override public PuzzleViews.View view(int side, int copy) {
            return PuzzleViews.maze(side, copy);
        }

        @Override public long viewCount(int side) {
            return 8;   // the dihedral group the model was trained with
        }
    };

    /** The task an artifact's metadata names ("sudoku" or "maze"). */
    static PuzzleTask forName(String name) {
        if ("sudoku".equals(name)) return SUDOKU;
        if ("maze".equals(name)) return MAZE;
        throw new IllegalArgumentException("the app has no rules check for task " + name + " (sudoku, maze)");
    }
}
