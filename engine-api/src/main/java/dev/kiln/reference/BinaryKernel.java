package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;

/** y = a (op) b with NumPy broadcasting: each output index maps to an index in each operand. */
final class BinaryKernel {
    private BinaryKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Binary.Kind kind = ((Binary) node.op()).kind();
        Shape ys = node.outputShape();
        int[] aStrides = Broadcast.strides(node.inputShape(0), ys);
        int[] bStrides = Broadcast.strides(node.inputShape(1), ys);
        float[] a = in[0], b = in[1], y = out[0];
        int[] dims = ys.dims();
        int[] index = new int[dims.length];
        int count = ys.elementCountInt();
        for (int i = 0; i < count; i++) {
            int ai = 0, bi = 0;
            for (int d = 0; d < dims.length; d++) {
                ai += index[d] * aStrides[d];
                bi += index[d] * bStrides[d];
            }
            y[i] = kind.apply(a[ai], b[bi]);
            Broadcast.increment(index, dims);
        }
    }
}
