package dev.trmedge.core;

/**
 * One supervision step of a `--recursion net` program (methods embed, net, heads): the app runs the
 * recursion between single net calls, in the order of trm_edge/schedule.py: H_cycles times, L_cycles latent
 * updates z = net(z, y + x) then one answer update y = net(y, z). The runtime then holds the net's weights
 * once instead of once per call (21 calls per step at paper size).
 */
public final class NetStepModel implements StepModel {
    /** The three methods of the program, whatever runtime runs them. */
    public interface Program {
        float[] embed(int[] inputs, int[] puzzleIdentifiers);

        float[] net(float[] hidden, float[] injection);

        /** Logits [seqLen * vocab] and the halting logit, from the answer state. */
        Heads heads(float[] y);
    }

    public static final class Heads {
        public final float[] logits;
        public final float qHalt;

        public Heads(float[] logits, float qHalt) {
            this.logits = logits;
            this.qHalt = qHalt;
        }
    }

    private final Program program;
    private final int hCycles, lCycles;

    public NetStepModel(Program program, ArtifactMetadata meta) {
        if (!"net".equals(meta.recursion)) {
            throw new IllegalArgumentException("NetStepModel drives --recursion net programs, not " + meta.recursion);
        }
        this.program = program;
        this.hCycles = meta.hCycles;
        this.lCycles = meta.lCycles;
    }

    @Override
    public Output step(int[] inputs, int[] puzzleIdentifiers, float[] y, float[] z) {
        float[] x = program.embed(inputs, puzzleIdentifiers);
        for (int t = 0; t < hCycles; t++) {
            for (int i = 0; i < lCycles; i++) {
                z = program.net(z, add(y, x));
            }
            y = program.net(y, z);
        }
        Heads heads = program.heads(y);
        return new Output(y, z, heads.logits, heads.qHalt);
    }

    static float[] add(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("state sizes differ: " + a.length + " vs " + b.length);
        float[] out = new float[a.length];
        for (int j = 0; j < a.length; j++) out[j] = a[j] + b[j];
        return out;
    }
}
