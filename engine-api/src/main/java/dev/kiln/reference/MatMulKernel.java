package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.spi.BoundNode;

/** NumPy matmul over broadcast batch axes; 1-D operands are treated as a row (A) or column (B). */
final class MatMulKernel {
    private MatMulKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Shape as = promote(node.inputShape(0), true);
        Shape bs = promote(node.inputShape(1), false);
        int rows = as.dim(-2), depth = as.dim(-1), cols = bs.dim(-1);
        Shape aBatch = MatMul.batchOf(as), bBatch = MatMul.batchOf(bs);
        Shape batch = dev.kiln.graph.ops.Binary.broadcast(aBatch, bBatch);
        int[] aStrides = Broadcast.strides(aBatch, batch);
        int[] bStrides = Broadcast.strides(bBatch, batch);
        int[] dims = batch.dims();
        int[] index = new int[dims.length];
        long batches = batch.elementCount();
        float[] a = in[0], b = in[1], y = out[0];
        for (int t = 0; t < batches; t++) {
            int aMatrix = 0, bMatrix = 0;
            for (int d = 0; d < dims.length; d++) {
                aMatrix += index[d] * aStrides[d];
                bMatrix += index[d] * bStrides[d];
            }
            int aBase = aMatrix * rows * depth, bBase = bMatrix * depth * cols, yBase = t * rows * cols;
            for (int m = 0; m < rows; m++) {
                for (int n = 0; n < cols; n++) {
                    double sum = 0;
                    for (int k = 0; k < depth; k++) {
                        sum += a[aBase + m * depth + k] * b[bBase + k * cols + n];
                    }
                    y[yBase + m * cols + n] = (float) sum;
                }
            }
            Broadcast.increment(index, dims);
        }
    }

    private static Shape promote(Shape s, boolean left) {
        if (s.rank() != 1) {
            return s;
        }
        return left ? Shape.of(1, s.dim(0)) : Shape.of(s.dim(0), 1);
    }
}
