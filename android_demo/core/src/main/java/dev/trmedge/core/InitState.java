package dev.trmedge.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** init_state.f32: H_init[hidden] then L_init[hidden], little-endian float32, broadcast to y and z. */
public final class InitState {
    public final float[] hInit, lInit;

    public InitState(byte[] bytes, int hidden) {
        if (bytes.length != 2 * hidden * 4) {
            throw new IllegalArgumentException("init_state.f32 has " + bytes.length + " bytes, expected " + (8 * hidden));
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        hInit = new float[hidden];
        lInit = new float[hidden];
        for (int j = 0; j < hidden; j++) hInit[j] = b.getFloat();
        for (int j = 0; j < hidden; j++) lInit[j] = b.getFloat();
    }

    /** y0 (from H_init) for a state of `positions` rows (batch * (prefix + seq_len)). */
    public float[] initialY(int positions) { return tile(hInit, positions); }

    /** z0 (from L_init). */
    public float[] initialZ(int positions) { return tile(lInit, positions); }

    private static float[] tile(float[] row, int n) {
        float[] out = new float[row.length * n];
        for (int p = 0; p < n; p++) System.arraycopy(row, 0, out, p * row.length, row.length);
        return out;
    }
}
