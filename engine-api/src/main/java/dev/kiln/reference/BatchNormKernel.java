package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.spi.BoundNode;

/** y = scale * (x - mean) / sqrt(var + epsilon) + bias, per channel (axis 1). */
final class BatchNormKernel {
    private BatchNormKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        float epsilon = ((BatchNormalization) node.op()).epsilon();
        Shape xs = node.inputShape(0);
        int batch = xs.dim(0), channels = xs.dim(1);
        int spatial = (int) xs.product(2, xs.rank());
        float[] x = in[0], scale = in[1], bias = in[2], mean = in[3], variance = in[4], y = out[0];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                float invStd = (float) (1.0 / Math.sqrt(variance[c] + epsilon));
                int base = (n * channels + c) * spatial;
                for (int i = base; i < base + spatial; i++) {
                    y[i] = scale[c] * (x[i] - mean[c]) * invStd + bias[c];
                }
            }
        }
    }
}
