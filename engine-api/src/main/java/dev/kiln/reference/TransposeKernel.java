package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.spi.BoundNode;

/** Walks the output in row-major order and reads the input through permuted strides. */
final class TransposeKernel {
    private TransposeKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Shape input = node.inputShape(0);
        int rank = input.rank();
        int[] perm = ((Transpose) node.op()).permutationFor(rank);
        int[] inputStrides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            inputStrides[d] = stride;
            stride *= input.dim(d);
        }
        int[] dims = node.outputShape().dims();
        int[] strides = new int[rank];
        for (int i = 0; i < rank; i++) {
            strides[i] = inputStrides[perm[i]];
        }
        int[] index = new int[rank];
        float[] x = in[0], y = out[0];
        int count = node.outputShape().elementCountInt();
        for (int o = 0; o < count; o++) {
            int offset = 0;
            for (int d = 0; d < rank; d++) {
                offset += index[d] * strides[d];
            }
            y[o] = x[offset];
            Broadcast.increment(index, dims);
        }
    }
}
