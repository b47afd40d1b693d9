package dev.kiln.reference;

import dev.kiln.spi.BoundNode;

/** Ops that only reinterpret the shape (Flatten, Reshape) or do nothing at inference (Identity, Dropout). */
final class CopyKernel {
    private CopyKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        int count = node.outputShape().elementCountInt();
        if (in[0] != out[0]) { // the memory plan may run these in place, and then there is nothing to do
            System.arraycopy(in[0], 0, out[0], 0, count);
        }
        // Dropout's optional mask output is all ones (nothing is dropped at inference).
        if (out.length > 1 && out[1] != null) {
            java.util.Arrays.fill(out[1], 0, count, 1f);
        }
    }
}
