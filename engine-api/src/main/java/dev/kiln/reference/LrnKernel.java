package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.spi.BoundNode;

/**
 * ONNX LRN: y[c] = x[c] / (bias + alpha / size * sum of x[j]^2)^beta, j over the channels
 * c - floor((size-1)/2) .. c + ceil((size-1)/2) that exist.
 */
final class LrnKernel {
    private LrnKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Lrn op = (Lrn) node.op();
        Shape xs = node.inputShape(0);
        int batch = xs.dim(0), channels = xs.dim(1);
        int spatial = (int) xs.product(2, xs.rank());
        int before = (op.size() - 1) / 2, after = op.size() - 1 - before;
        float[] x = in[0], y = out[0];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int lo = Math.max(0, c - before), hi = Math.min(channels - 1, c + after);
                for (int s = 0; s < spatial; s++) {
                    double squares = 0;
                    for (int j = lo; j <= hi; j++) {
                        float v = x[(n * channels + j) * spatial + s];
                        squares += v * v;
                    }
                    int i = (n * channels + c) * spatial + s;
                    y[i] = (float) (x[i] / Math.pow(op.bias() + op.alpha() / op.size() * squares, op.beta()));
                }
            }
        }
    }
}
