package dev.kiln.testing;

import java.util.Random;

/** Deterministic input data, so a failing case can be rerun exactly. */
public final class TestValues {
    private TestValues() {
    }

    /** 1, 2, ..., n: easy to follow when working out expected values by hand. */
    public static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i + 1;
        }
        return v;
    }

    /** Uniform in [-1, 1) from a fixed seed. */
    public static float[] uniform(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }
}
