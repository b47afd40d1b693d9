package dev.kiln.conformance.blocked;

/**
 * Relu and Add over whole blocked buffers. Both map zero padding lanes to zero (max(0, 0) and
 * 0 + 0), so they need not know where the padding is.
 */
final class PointwiseKernels {
    private PointwiseKernels() {
    }

    static void relu(float[][] inputs, float[] output) {
        float[] x = inputs[0];
        for (int i = 0; i < output.length; i++) {
            output[i] = Math.max(x[i], 0f);
        }
    }

    static void add(float[][] inputs, float[] output) {
        float[] a = inputs[0], b = inputs[1];
        for (int i = 0; i < output.length; i++) {
            output[i] = a[i] + b[i];
        }
    }
}
