package dev.trmedge.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Verified test-time compute (port of trm_edge/runtime/tries.py): copy k of a puzzle (the task's views) runs with
 * 'valid' halting (stop at the first step the rules accept, or once the answer is unchanged for `patience`
 * steps); the answer, mapped back, is accepted only by the rules, so more tries never make an answer wrong. Copy
 * k+1 runs only for puzzles no earlier copy solved, every open puzzle at once (through a StreamingLoop, each in
 * its own row). No copy accepted: the most frequent answer, ties by the halting logit, then the earlier copy.
 */
public final class Tries {
    public static final class Result {
        public final int[] answer;      // cells, for the puzzle as given
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

    /** Runs token rows, each with its own halting rule: one at a time (HaltingLoop) or streamed (StreamingLoop). */
    public interface Runner {
        HaltingLoop.Result[] run(int[][] tokens, IntFunction<HaltingLoop.Stop> stops, int maxSteps);
    }

    private Tries() {}

    /** One puzzle, copy by copy through the batch-1 loop. */
    public static Result solve(HaltingLoop loop, PuzzleTask task, int[] puzzle, int side, int tries, int maxSteps,
                               int patience) {
        Runner oneByOne = (tokens, stops, steps) -> {
            HaltingLoop.Result[] out = new HaltingLoop.Result[tokens.length];
            for (int i = 0; i < tokens.length; i++) out[i] = loop.solve(tokens[i], 0, stops.apply(i), null, steps);
            return out;
        };
        return solveAll(oneByOne, task, new int[][] {puzzle}, side, tries, maxSteps, patience)[0];
    }

    /** Every puzzle, each copy's open puzzles streamed through a batch-B step graph. */
    public static Result[] solveAll(StreamingLoop stream, PuzzleTask task, int[][] puzzles, int side, int tries,
                                    int maxSteps, int patience) {
        return solveAll((tokens, stops, steps) -> stream.solve(tokens, new int[tokens.length], stops, steps),
                        task, puzzles, side, tries, maxSteps, patience);
    }

    static Result[] solveAll(Runner runner, PuzzleTask task, int[][] puzzles, int side, int tries, int maxSteps,
                             int patience) {
        if (tries < 1) throw new IllegalArgumentException("tries must be at least 1, got " + tries);
        if (tries > task.viewCount(side)) {
            throw new IllegalArgumentException("a puzzle of side " + side + " has " + task.viewCount(side)
                                               + " distinct views: " + tries + " tries would repeat copies");
        }
        List<List<Candidate>> seen = new ArrayList<>();
        for (int i = 0; i < puzzles.length; i++) seen.add(new ArrayList<>());
        for (int copy = 0; copy < tries; copy++) {
            List<Integer> open = new ArrayList<>();
            for (int i = 0; i < puzzles.length; i++) if (!accepted(seen.get(i))) open.add(i);
            if (open.isEmpty()) break;
            PuzzleViews.View view = task.view(side, copy);
            int[][] cells = new int[open.size()][], tokens = new int[open.size()][];
            for (int k = 0; k < cells.length; k++) {
                cells[k] = view.apply(puzzles[open.get(k)]);
                tokens[k] = task.toTokens(cells[k]);
            }
            HaltingLoop.Result[] runs = runner.run(tokens, row -> validStop(task, cells[row], side, patience), maxSteps);
            for (int k = 0; k < runs.length; k++) {
                int i = open.get(k);
                int[] answer = view.undo(task.fromTokens(runs[k].prediction));
                seen.get(i).add(new Candidate(answer, copy, runs[k].steps, runs[k].qHalt,
                                              task.accepts(puzzles[i], answer, side)));
            }
        }
        Result[] out = new Result[puzzles.length];
        for (int i = 0; i < out.length; i++) out[i] = outcome(seen.get(i));
        return out;
    }

    private static final class Candidate {
        final int[] answer;
        final int copy, steps;
        final float qHalt;
        final boolean verified;

        Candidate(int[] answer, int copy, int steps, float qHalt, boolean verified) {
            this.answer = answer;
            this.copy = copy;
            this.steps = steps;
            this.qHalt = qHalt;
            this.verified = verified;
        }
    }

    private static boolean accepted(List<Candidate> candidates) {
        return !candidates.isEmpty() && candidates.get(candidates.size() - 1).verified;
    }

    private static Result outcome(List<Candidate> candidates) {
        Candidate chosen = accepted(candidates) ? candidates.get(candidates.size() - 1) : vote(candidates);
        int steps = 0;
        for (Candidate c : candidates) steps += c.steps;
        return new Result(chosen.answer, chosen.copy, chosen.verified, steps, candidates.size());
    }

    /** 'valid' (patience 0) or 'valid-K' halting on one copy's cells. */
    static HaltingLoop.Stop validStop(PuzzleTask task, int[] cells, int side, int patience) {
        return new HaltingLoop.Stop() {
            private int[] previous;
            private int unchanged;

            @Override
            public boolean stops(int step, int[] prediction, float qHalt) {
                if (task.accepts(cells, task.fromTokens(prediction), side)) return true;
                unchanged = previous != null && java.util.Arrays.equals(previous, prediction) ? unchanged + 1 : 0;
                previous = prediction;
                return patience > 0 && unchanged >= patience;
            }
        };
    }

    private static Candidate vote(List<Candidate> seen) {
        Map<String, Integer> counts = new HashMap<>();
        for (Candidate c : seen) counts.merge(java.util.Arrays.toString(c.answer), 1, Integer::sum);
        Candidate best = seen.get(0);
        for (Candidate c : seen) {
            int a = counts.get(java.util.Arrays.toString(c.answer)), b = counts.get(java.util.Arrays.toString(best.answer));
            if (a > b || (a == b && c.qHalt > best.qHalt)) best = c;   // equal on both: the earlier copy stays
        }
        return best;
    }
}
