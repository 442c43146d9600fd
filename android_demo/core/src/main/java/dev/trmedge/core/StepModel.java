package dev.trmedge.core;

/** One supervision step of an exported step graph, whatever runtime runs it (ExecuTorch, LiteRT, Core ML). */
public interface StepModel {
    /** Outputs of one step: the new y and z, logits [seqLen * vocab] and the halting logit. */
    final class Output {
        public final float[] y, z, logits;
        public final float qHalt;

        public Output(float[] y, float[] z, float[] logits, float qHalt) {
            this.y = y;
            this.z = z;
            this.logits = logits;
            this.qHalt = qHalt;
        }
    }

    Output step(int[] inputs, int[] puzzleIdentifiers, float[] y, float[] z);
}
