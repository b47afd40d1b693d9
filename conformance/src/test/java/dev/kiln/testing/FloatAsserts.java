package dev.kiln.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Element-wise comparison of kernel output with expected values computed in double precision. */
public final class FloatAsserts {
    /** Float32 results of short reductions agree with a double computation to about this. */
    public static final double DEFAULT_TOLERANCE = 1e-5;

    private FloatAsserts() {
    }

    public static void assertClose(double[] expected, float[] actual) {
        assertClose(expected, actual, DEFAULT_TOLERANCE);
    }

    /**
     * Each element within {@code tolerance} relative to its magnitude, or, below magnitude 1,
     * absolute at the scale of the whole output: {@code tolerance * min(1, max |expected|)}. Values
     * near zero are not held to a relative bound they cannot meet (a sum that cancels), but an
     * output whose values are all small (a softmax over many classes, a sigmoid of large
     * negatives) is held to its own scale, not to an absolute {@code tolerance}, which its
     * elements could miss by a factor of ten and meet. An all-zero expectation needs exact zeros.
     */
    public static void assertClose(double[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, "number of elements");
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double floor = Math.min(1.0, scale);
        for (int i = 0; i < expected.length; i++) {
            double bound = tolerance * Math.max(floor, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= bound)) {
                fail("element " + i + ": expected " + expected[i] + ", got " + actual[i] + " (tolerance " + bound
                        + ")");
            }
        }
    }

    /** For expectations written by hand as float literals. */
    public static void assertClose(float[] expected, float[] actual) {
        double[] wide = new double[expected.length];
        for (int i = 0; i < expected.length; i++) {
            wide[i] = expected[i];
        }
        assertClose(wide, actual, DEFAULT_TOLERANCE);
    }
}
