package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.spi.BoundNode;

/** Mean or max of each (n, c) plane. */
final class GlobalPoolKernel {
    private GlobalPoolKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        boolean max = ((GlobalPool) node.op()).kind() == GlobalPool.Kind.MAX;
        Shape xs = node.inputShape(0);
        int planes = xs.dim(0) * xs.dim(1);
        int spatial = (int) xs.product(2, xs.rank());
        float[] x = in[0], y = out[0];
        for (int p = 0; p < planes; p++) {
            double sum = 0;
            float best = Float.NEGATIVE_INFINITY;
            for (int i = p * spatial; i < (p + 1) * spatial; i++) {
                sum += x[i];
                best = Math.max(best, x[i]);
            }
            y[p] = max ? best : (float) (sum / spatial);
        }
    }
}
