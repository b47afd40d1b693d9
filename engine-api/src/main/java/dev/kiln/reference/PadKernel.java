package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Pad;
import dev.kiln.spi.BoundNode;

import java.util.Arrays;

/** Fills the output with the pad value, then copies each innermost row of the input to its place. */
final class PadKernel {
    private PadKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Pad op = (Pad) node.op();
        Shape xs = node.inputShape(0);
        Shape ys = node.outputShape();
        float[] x = in[0], y = out[0];
        Arrays.fill(y, 0, ys.elementCountInt(), op.value());
        int rank = xs.rank();
        if (xs.elementCount() == 0) {
            return;
        }
        if (rank == 0) {
            y[0] = x[0];
            return;
        }
        int rowLength = xs.dim(rank - 1);
        int rows = xs.elementCountInt() / rowLength;
        int[] outStrides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            outStrides[d] = stride;
            stride *= ys.dim(d);
        }
        int[] outer = xs.withDim(rank - 1, 1).dims(); // the row index ranges over every axis but the last
        int[] index = new int[rank];
        for (int row = 0; row < rows; row++) {
            int target = 0;
            for (int d = 0; d < rank; d++) {
                target += (index[d] + op.before(d)) * outStrides[d];
            }
            System.arraycopy(x, row * rowLength, y, target, rowLength);
            Broadcast.increment(index, outer);
        }
    }
}
