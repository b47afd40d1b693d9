package dev.kiln.parity;

import dev.kiln.Tensor;

/**
 * The parity measure: the largest absolute difference from the oracle's output (PyTorch's, or
 * ONNX Runtime's on the same file) divided by the largest absolute value of the oracle's output.
 * Relative to the output's scale rather than to each element, so that logits near zero do not
 * fail on rounding that is tiny next to the others.
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
        return of(actual.toFloatArray(), expected.toFloatArray());
    }

    /** As {@link #of(Tensor, Tensor)}, for outputs of the same shape given as their elements. */
    static double of(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(actual.length + " output elements, the oracle's output has " + expected.length);
        }
        double maxDifference = 0;
        double scale = 0;
        for (int i = 0; i < actual.length; i++) {
            double difference = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(difference)) {
                return Double.NaN;
            }
            maxDifference = Math.max(maxDifference, difference);
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        if (scale == 0) {
            throw new AssertionError("the oracle's output is all zeros: the fixture proves nothing");
        }
        return maxDifference / scale;
    }
}
