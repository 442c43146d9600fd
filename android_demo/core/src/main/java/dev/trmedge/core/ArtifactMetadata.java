package dev.trmedge.core;

import java.util.List;
import java.util.Map;

/** The parts of an artifact's metadata.json that an app needs to drive the step graph. */
public final class ArtifactMetadata {
    public final String target, recursion, quantize, task, modelFile;
    public final int vocabSize, seqLen, hiddenSize, haltMaxSteps, batch, prefixLen, hCycles, lCycles;
    public final int[] stateShape, gridShape;

    private ArtifactMetadata(Map<String, Object> m) {
        target = str(m, "target");
        recursion = str(m, "recursion");
        quantize = str(m, "quantize");
        task = str(m, "task");
        modelFile = str(m, "model_file");
        vocabSize = num(m, "vocab_size");
        seqLen = num(m, "seq_len");
        hiddenSize = num(m, "hidden_size");
        haltMaxSteps = num(m, "halt_max_steps");
        batch = num(m, "batch");
        prefixLen = num(m, "prefix_len");
        hCycles = num(m, "H_cycles");
        lCycles = num(m, "L_cycles");
        stateShape = ints(m.get("state_shape"), "state_shape");
        gridShape = m.get("grid_shape") == null ? null : ints(m.get("grid_shape"), "grid_shape");
        if (!"trm-edge-artifact/1".equals(m.get("schema"))) {
            throw new IllegalArgumentException("not a trm-edge artifact (schema " + m.get("schema") + ")");
        }
        if (stateShape.length != 3 || stateShape[1] != prefixLen + seqLen || stateShape[2] != hiddenSize) {
            throw new IllegalArgumentException("state_shape does not match prefix_len + seq_len and hidden_size");
        }
    }

    @SuppressWarnings("unchecked")
    public static ArtifactMetadata parse(String json) {
        Object root = MiniJson.parse(json);
        if (!(root instanceof Map)) throw new IllegalArgumentException("metadata.json must hold an object");
        return new ArtifactMetadata((Map<String, Object>) root);
    }

    /** Number of floats in y (and in z). */
    public int stateSize() { return stateShape[0] * stateShape[1] * stateShape[2]; }

    private static String str(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof String)) throw new IllegalArgumentException("metadata field '" + k + "' missing or not a string");
        return (String) v;
    }

    private static int num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Double)) throw new IllegalArgumentException("metadata field '" + k + "' missing or not a number");
        return ((Double) v).intValue();
    }

    private static int[] ints(Object v, String k) {
        if (!(v instanceof List)) throw new IllegalArgumentException("metadata field '" + k + "' must be a list");
        List<?> l = (List<?>) v;
        int[] out = new int[l.size()];
        for (int j = 0; j < out.length; j++) out[j] = ((Double) l.get(j)).intValue();
        return out;
    }
}
