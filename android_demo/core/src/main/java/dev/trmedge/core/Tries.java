package dev.trmedge.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Verified test-time compute for Sudoku (port of trm_edge/runtime/tries.py, one puzzle): copy k of the puzzle
 * (PuzzleViews) runs through the host loop with 'valid' halting (stop at the first step the rules accept, or once
 * the answer is unchanged for `patience` steps); the answer, mapped back, is accepted only by the rules, so more
 * tries never make an answer wrong. No copy accepted: the most frequent answer, ties by the halting logit.
 */
public final class Tries {
    public static final class Result {
        public final int[] answer;      // digits, for the puzzle as given
        public final int copy;          // the copy whose answer this is
        public final boolean verified;  // the rules accepted it
        public final int steps;         // every copy's steps
        public final int copies;        // copies run

        Result(int[] answer, int copy, boolean verified, int steps, int copies) {
            this.answer = answer;
            this.copy = copy;
            this.verified = verified;
            this.steps = steps;
            this.copies = copies;
        }
    }

    private Tries() {}

    /** @param puzzle digits (0 blank) of a side x side Sudoku; tries >= 1; patience >= 0 (0: only the rules stop). */
    public static Result solve(HaltingLoop loop, int[] puzzle, int side, int tries, int maxSteps, int patience) {
        if (tries < 1) throw new IllegalArgumentException("tries must be at least 1, got " + tries);
        List<Result> seen = new ArrayList<>();
        List<Float> confidence = new ArrayList<>();
        int steps = 0;
        for (int copy = 0; copy < tries; copy++) {
            PuzzleViews.View view = PuzzleViews.sudoku(side, copy);
            int[] cells = view.apply(puzzle);
            int[] tokens = new int[cells.length];
            for (int i = 0; i < cells.length; i++) tokens[i] = cells[i] + 1;   // blank 1, digit d -> d + 1
            HaltingLoop.Result r = loop.solve(tokens, 0, validStop(cells, side, patience), null, maxSteps);
            int[] digits = new int[r.prediction.length];
            for (int i = 0; i < digits.length; i++) digits[i] = Math.max(0, r.prediction[i] - 1);
            int[] answer = view.undo(digits);
            steps += r.steps;
            boolean ok = SudokuRules.accepts(puzzle, answer, side);
            seen.add(new Result(answer, copy, ok, r.steps, 1));
            confidence.add(r.qHalt);
            if (ok) return new Result(answer, copy, true, steps, copy + 1);
        }
        Result best = vote(seen, confidence);
        return new Result(best.answer, best.copy, false, steps, seen.size());
    }

    /** 'valid' (patience 0) or 'valid-K' halting on one copy's cells. */
    static HaltingLoop.Stop validStop(int[] cells, int side, int patience) {
        return new HaltingLoop.Stop() {
            private int[] previous;
            private int unchanged;

            @Override
            public boolean stops(int step, int[] prediction, float qHalt) {
                int[] digits = new int[prediction.length];
                for (int i = 0; i < digits.length; i++) digits[i] = Math.max(0, prediction[i] - 1);
                if (SudokuRules.accepts(cells, digits, side)) return true;
                unchanged = previous != null && java.util.Arrays.equals(previous, prediction) ? unchanged + 1 : 0;
                previous = prediction;
                return patience > 0 && unchanged >= patience;
            }
        };
    }

    static Result vote(List<Result> seen, List<Float> confidence) {
        Map<String, Integer> counts = new HashMap<>();
        for (Result r : seen) counts.merge(java.util.Arrays.toString(r.answer), 1, Integer::sum);
        int best = 0;
        for (int i = 1; i < seen.size(); i++) {
            int a = counts.get(java.util.Arrays.toString(seen.get(i).answer));
            int b = counts.get(java.util.Arrays.toString(seen.get(best).answer));
            if (a > b || (a == b && confidence.get(i) > confidence.get(best))) best = i;
        }
        return seen.get(best);
    }
}
