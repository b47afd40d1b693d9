package dev.kiln.parity;

import dev.kiln.Tensor;

/**
 * The parity measure: the largest absolute difference from PyTorch's output divided by the
 * largest absolute value of PyTorch's output. Relative to the output's scale rather than to each
 * element, so that logits near zero do not fail on rounding that is tiny next to the others.
 */
final class RelativeDifference {
    /** What float32 kernels must reach against PyTorch's float64 forward. */
    static final double TOLERANCE = 1e-4;

    private RelativeDifference() {
    }

    /**
     * max |actual - expected| / max |expected|; NaN anywhere in {@code actual} gives NaN, which
     * fails every {@code <=} comparison.
     */
    static double of(Tensor actual, Tensor expected) {
        if (!actual.shape().equals(expected.shape())) {
            throw new AssertionError("output shape " + actual.shape() + ", PyTorch's is " + expected.shape());
        }
        float[] y = actual.toFloatArray();
        float[] reference = expected.toFloatArray();
        double maxDifference = 0;
        double scale = 0;
        for (int i = 0; i < y.length; i++) {
            double difference = Math.abs((double) y[i] - reference[i]);
            if (Double.isNaN(difference)) {
                return Double.NaN;
            }
            maxDifference = Math.max(maxDifference, difference);
            scale = Math.max(scale, Math.abs(reference[i]));
        }
        if (scale == 0) {
            throw new AssertionError("PyTorch's output is all zeros: the fixture proves nothing");
        }
        return maxDifference / scale;
    }
}
