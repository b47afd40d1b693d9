package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import dev.kiln.spi.BoundNode;

/**
 * Concatenation: the output is [outer, sum of axis sizes, inner]; each input contributes a block
 * of axis size * inner elements to every outer index.
 */
final class ConcatKernel {
    private ConcatKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Shape ys = node.outputShape();
        int axis = ((Concat) node.op()).axis();
        axis = axis < 0 ? axis + ys.rank() : axis;
        int outer = (int) ys.product(0, axis);
        int inner = (int) ys.product(axis + 1, ys.rank());
        int outBlock = ys.dim(axis) * inner;
        float[] y = out[0];
        int offset = 0;
        for (int i = 0; i < in.length; i++) {
            int block = node.inputShape(i).dim(axis) * inner;
            for (int o = 0; o < outer; o++) {
                System.arraycopy(in[i], o * block, y, o * outBlock + offset, block);
            }
            offset += block;
        }
    }
}
