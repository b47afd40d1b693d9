package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;

/**
 * Squeeze-and-excitation, computed in the same order and precision as the unfused chain on this
 * backend (the global pool's double sum, the 1x1 convolutions' float accumulation starting from
 * the bias), so that fusing the block does not change a single bit of the result.
 */
final class SqueezeExcitationKernel {
    private SqueezeExcitationKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        SqueezeExcitation se = (SqueezeExcitation) node.op();
        Shape xs = node.inputShape(0);
        int batch = xs.dim(0), channels = xs.dim(1);
        int spatial = (int) xs.product(2, 4);
        int reduced = node.inputShape(1).dim(0);
        float[] x = in[0], w1 = in[1], w2 = in[2], y = out[0];
        float[] b1 = in.length > 3 ? in[3] : null;
        float[] b2 = in.length > 4 ? in[4] : null;
        float[] pooled = new float[channels];
        float[] squeezed = new float[reduced];
        float[] gate = new float[channels];
        for (int n = 0; n < batch; n++) {
            int base = n * channels * spatial;
            for (int c = 0; c < channels; c++) {
                double sum = 0;
                for (int i = base + c * spatial; i < base + (c + 1) * spatial; i++) {
                    sum += x[i];
                }
                pooled[c] = (float) (sum / spatial);
            }
            pointwise(w1, b1, pooled, squeezed, se.squeezeActivation());
            pointwise(w2, b2, squeezed, gate, se.gateActivation());
            for (int c = 0; c < channels; c++) {
                for (int i = base + c * spatial; i < base + (c + 1) * spatial; i++) {
                    y[i] = x[i] * gate[c];
                }
            }
        }
    }

    /** A 1x1 convolution of a 1x1 image: out[m] = f(bias[m] + sum_c w[m][c] * in[c]). */
    private static void pointwise(float[] weights, float[] bias, float[] input, float[] output, ActivationFunction f) {
        for (int m = 0; m < output.length; m++) {
            float sum = bias == null ? 0f : bias[m];
            for (int c = 0; c < input.length; c++) {
                sum += weights[m * input.length + c] * input[c];
            }
            output[m] = f.apply(sum);
        }
    }
}
