package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.spi.BoundNode;

/**
 * exp(x - max) / sum over the axis. The input is viewed as [outer, axis, inner]; in the
 * opset 1-12 form the axis extends to the end (inner is 1).
 */
final class SoftmaxKernel {
    private SoftmaxKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Softmax op = (Softmax) node.op();
        Shape xs = node.inputShape(0);
        int axis = op.axis() < 0 ? op.axis() + xs.rank() : op.axis();
        int outer = (int) xs.product(0, axis);
        int length = op.coerceTo2d() ? (int) xs.product(axis, xs.rank()) : xs.dim(axis);
        int inner = op.coerceTo2d() ? 1 : (int) xs.product(axis + 1, xs.rank());
        float[] x = in[0], y = out[0];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * length * inner + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < length; k++) {
                    max = Math.max(max, x[base + k * inner]);
                }
                double sum = 0;
                for (int k = 0; k < length; k++) {
                    float e = (float) Math.exp(x[base + k * inner] - max);
                    y[base + k * inner] = e;
                    sum += e;
                }
                for (int k = 0; k < length; k++) {
                    y[base + k * inner] = (float) (y[base + k * inner] / sum);
                }
            }
        }
    }
}
