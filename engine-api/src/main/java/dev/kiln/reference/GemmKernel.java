package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;



/** Y[m][n] = alpha * sum_k A'[m][k] * B'[k][n] + beta * C[m][n] (C broadcast), then the post-ops; column runs in parallel. */
final class GemmKernel {
    private static final int COLUMNS_PER_TASK = 256;

    private GemmKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out, HostThreads threads) {
        Gemm g = (Gemm) node.op();
        Shape as = node.inputShape(0);
        int rows = node.outputShape().dim(0), cols = node.outputShape().dim(1);
        int depth = g.transA() ? as.dim(0) : as.dim(1);
        float[] a = in[0], b = in[1], c = in.length > 2 ? in[2] : null, y = out[0];
        int[] cStrides = c == null ? null : Broadcast.strides(node.inputShape(2), node.outputShape());
        // A task is a run of columns of one row, not a whole row: at batch 1 a fully connected
        // layer is one row (VGG-16's first: 4096 columns of 25088 products, about 0.1 s here),
        // which one task would leave to one thread and no cancel could interrupt.
        int chunks = Math.ceilDiv(cols, COLUMNS_PER_TASK);
        threads.parallelFor(rows * chunks, task -> {
            int m = task / chunks, first = (task % chunks) * COLUMNS_PER_TASK;
            int last = Math.min(cols, first + COLUMNS_PER_TASK);
            for (int n = first; n < last; n++) {
                double sum = 0; // double: the FC layers of VGG reduce over 25088 products
                for (int k = 0; k < depth; k++) {
                    float av = g.transA() ? a[k * rows + m] : a[m * depth + k];
                    float bv = g.transB() ? b[n * depth + k] : b[k * cols + n];
                    sum += av * bv;
                }
                float value = g.alpha() * (float) sum;
                if (c != null) {
                    value += g.beta() * c[m * cStrides[0] + n * cStrides[1]];
                }
                y[m * cols + n] = value;
            }
            Epilogue.apply(g.postOps(), y, null, m * cols + first, last - first);
        });
    }
}
