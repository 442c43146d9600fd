package dev.trmedge.core;

/**
 * The host loop (port of trm_edge.host_loop.solve, batch 1): call the step graph, keep y and z,
 * stop when the halting head says so (q_halt > 0) or after haltMaxSteps steps.
 */
public final class HaltingLoop {
    /** A halting rule (port of trm_edge.host_loop.Halting): whether to stop after this step. */
    public interface Stop {
        boolean stops(int step, int[] prediction, float qHalt);
    }

    /** Sees every step's answer, e.g. to redraw the grid as the model refines it. */
    public interface Listener {
        void onStep(int step, int[] prediction, float qHalt);
    }

    public static final class Result {
        public final int[] prediction;
        public final int steps;
        public final boolean halted;
        public final float qHalt;

        Result(int[] prediction, int steps, boolean halted, float qHalt) {
            this.prediction = prediction;
            this.steps = steps;
            this.halted = halted;
            this.qHalt = qHalt;
        }
    }

    private final StepModel model;
    private final ArtifactMetadata meta;
    private final InitState init;

    public HaltingLoop(StepModel model, ArtifactMetadata meta, InitState init) {
        if (!"step".equals(meta.recursion) && !"net".equals(meta.recursion)) {   // both: one step per model.step
            throw new IllegalArgumentException("the host loop needs a --recursion step or net artifact, got " + meta.recursion);
        }
        if (meta.batch != 1) throw new IllegalArgumentException("the app solves one puzzle at a time: export with --batch 1");
        this.model = model;
        this.meta = meta;
        this.init = init;
    }

    /** @param useHalting false runs all steps (the official evaluation); true stops at q_halt > 0. */
    public Result solve(int[] tokens, int puzzleId, boolean useHalting, Listener listener) {
        return solve(tokens, puzzleId, useHalting, listener, meta.haltMaxSteps);
    }

    /** @param maxSteps the most supervision steps (1..1024): more than the trained haltMaxSteps often solves more. */
    public Result solve(int[] tokens, int puzzleId, boolean useHalting, Listener listener, int maxSteps) {
        return solve(tokens, puzzleId, useHalting ? (k, p, q) -> q > 0 : (k, p, q) -> false, listener, maxSteps);
    }

    /** The loop with any halting rule (`stop`), e.g. Tries' 'valid' rule. */
    public Result solve(int[] tokens, int puzzleId, Stop stop, Listener listener, int maxSteps) {
        if (maxSteps < 1 || maxSteps > 1024) throw new IllegalArgumentException("maxSteps must be 1 to 1024, got " + maxSteps);
        if (tokens.length != meta.seqLen) {
            throw new IllegalArgumentException("puzzle has " + tokens.length + " cells, the model expects " + meta.seqLen);
        }
        int positions = meta.stateShape[0] * meta.stateShape[1];
        float[] y = init.initialY(positions), z = init.initialZ(positions);
        int[] ids = {puzzleId};
        int[] prediction = null;
        float q = 0f;
        for (int k = 1; k <= maxSteps; k++) {
            StepModel.Output out = model.step(tokens, ids, y, z);
            y = out.y;
            z = out.z;
            q = out.qHalt;
            prediction = argmax(out.logits, meta.seqLen, meta.vocabSize);
            if (listener != null) listener.onStep(k, prediction, q);
            if (stop.stops(k, prediction, q)) return new Result(prediction, k, true, q);
        }
        return new Result(prediction, maxSteps, false, q);
    }

    /** Row-wise argmax of logits laid out [cells][vocab]. */
    public static int[] argmax(float[] logits, int cells, int vocab) {
        if (logits.length != cells * vocab) {
            throw new IllegalArgumentException("logits has " + logits.length + " values, expected " + cells * vocab);
        }
        int[] out = new int[cells];
        for (int c = 0; c < cells; c++) {
            int best = 0;
            for (int v = 1; v < vocab; v++) if (logits[c * vocab + v] > logits[c * vocab + best]) best = v;
            out[c] = best;
        }
        return out;
    }
}
