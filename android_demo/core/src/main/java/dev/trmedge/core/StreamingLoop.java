package dev.trmedge.core;

import java.util.function.IntFunction;

/**
 * Continuous batching (port of trm_edge.host_loop.solve_stream) for a step graph exported with
 * --batch B: B rows stay in flight, and a row that halts (q_halt > 0, or after maxSteps) hands its slot to the
 * next puzzle, its y and z reset to the initial state. Rows do not interact, so every puzzle gets the answer
 * it gets alone (HaltingLoop), while no batch waits for its slowest row.
 */
public final class StreamingLoop {
    /** One supervision step of a batch-B step graph; arrays are row-major over the batch. */
    public interface BatchStepModel {
        /** inputs [B * seqLen], ids [B], y and z [B * positions * hidden]: the new y and z, logits and q_halt [B]. */
        Output step(int[] inputs, int[] puzzleIdentifiers, float[] y, float[] z);

        final class Output {
            public final float[] y, z, logits, qHalt;

            public Output(float[] y, float[] z, float[] logits, float[] qHalt) {
                this.y = y;
                this.z = z;
                this.logits = logits;
                this.qHalt = qHalt;
            }
        }
    }

    private final BatchStepModel model;
    private final ArtifactMetadata meta;
    private final float[] y0Row, z0Row;   // one row's initial state
    private final int batch, rowState;

    public StreamingLoop(BatchStepModel model, ArtifactMetadata meta, InitState init) {
        if (!"step".equals(meta.recursion)) {
            throw new IllegalArgumentException("continuous batching needs a --recursion step artifact, got " + meta.recursion);
        }
        this.model = model;
        this.meta = meta;
        this.batch = meta.stateShape[0];
        this.rowState = meta.stateShape[1] * meta.hiddenSize;
        this.y0Row = init.initialY(meta.stateShape[1]);
        this.z0Row = init.initialZ(meta.stateShape[1]);
    }

    /** Solves every puzzle (tokens of seqLen each); answers in the puzzles' order. */
    public HaltingLoop.Result[] solve(int[][] puzzles, int[] puzzleIds, boolean useHalting, int maxSteps) {
        HaltingLoop.Stop stop = useHalting ? (k, p, q) -> q > 0 : (k, p, q) -> false;
        return solve(puzzles, puzzleIds, puzzle -> stop, maxSteps);
    }

    /** The same with any halting rule per puzzle (`stops.apply(i)`: puzzle i's, e.g. Tries' 'valid' rule). */
    public HaltingLoop.Result[] solve(int[][] puzzles, int[] puzzleIds, IntFunction<HaltingLoop.Stop> stops,
                                      int maxSteps) {
        if (maxSteps < 1 || maxSteps > 1024) throw new IllegalArgumentException("maxSteps must be 1 to 1024, got " + maxSteps);
        HaltingLoop.Result[] answers = new HaltingLoop.Result[puzzles.length];
        int[] slotPuzzle = new int[batch], slotSteps = new int[batch];
        HaltingLoop.Stop[] slotStop = new HaltingLoop.Stop[batch];
        int[] inputs = new int[batch * meta.seqLen], ids = new int[batch];
        float[] y = new float[batch * rowState], z = new float[batch * rowState];
        int next = 0, busy = 0;
        for (int slot = 0; slot < batch; slot++) {
            slotPuzzle[slot] = -1;
            if (next < puzzles.length) {
                slotStop[slot] = stops.apply(next);
                load(slot, next++, puzzles, puzzleIds, inputs, ids, y, z, slotPuzzle, slotSteps);
                busy++;
            }
        }
        while (busy > 0) {
            BatchStepModel.Output out = model.step(inputs, ids, y, z);
            y = out.y.clone();   // a runtime may own its output buffers: reset rows in our own copy
            z = out.z.clone();
            for (int slot = 0; slot < batch; slot++) {
                if (slotPuzzle[slot] < 0) continue;
                int steps = ++slotSteps[slot];
                float q = out.qHalt[slot];
                int[] answer = rowAnswer(out.logits, slot);
                boolean halted = slotStop[slot].stops(steps, answer, q);
                if (!halted && steps < maxSteps) continue;
                answers[slotPuzzle[slot]] = new HaltingLoop.Result(answer, steps, halted, q);
                slotPuzzle[slot] = -1;
                busy--;
                if (next < puzzles.length) {
                    slotStop[slot] = stops.apply(next);
                    load(slot, next++, puzzles, puzzleIds, inputs, ids, y, z, slotPuzzle, slotSteps);
                    busy++;
                }
            }
        }
        return answers;
    }

    private void load(int slot, int puzzle, int[][] puzzles, int[] puzzleIds, int[] inputs, int[] ids, float[] y,
                      float[] z, int[] slotPuzzle, int[] slotSteps) {
        if (puzzles[puzzle].length != meta.seqLen) {
            throw new IllegalArgumentException("puzzle " + puzzle + " has " + puzzles[puzzle].length + " cells, the model expects " + meta.seqLen);
        }
        System.arraycopy(puzzles[puzzle], 0, inputs, slot * meta.seqLen, meta.seqLen);
        ids[slot] = puzzleIds[puzzle];
        System.arraycopy(y0Row, 0, y, slot * rowState, rowState);
        System.arraycopy(z0Row, 0, z, slot * rowState, rowState);
        slotPuzzle[slot] = puzzle;
        slotSteps[slot] = 0;
    }

    private int[] rowAnswer(float[] logits, int slot) {
        int size = meta.seqLen * meta.vocabSize;
        float[] row = new float[size];
        System.arraycopy(logits, slot * size, row, 0, size);
        return HaltingLoop.argmax(row, meta.seqLen, meta.vocabSize);
    }
}
