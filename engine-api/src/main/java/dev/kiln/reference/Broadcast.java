package dev.kiln.reference;

import dev.kiln.Shape;

/** Index arithmetic for NumPy broadcasting over row-major arrays. */
final class Broadcast {
    private Broadcast() {
    }

    /**
     * Strides, aligned to the output's axes, for reading an operand broadcast to {@code output}:
     * zero along axes the operand lacks or has as 1.
     */
    static int[] strides(Shape operand, Shape output) {
        int rank = output.rank();
        int[] strides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            int od = d - (rank - operand.rank());
            if (od < 0) {
                break;
            }
            int size = operand.dim(od);
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return strides;
    }

    /** Advances a multi-index over {@code dims} in row-major order. */
    static void increment(int[] index, int[] dims) {
        for (int d = dims.length - 1; d >= 0; d--) {
            if (++index[d] < dims[d]) {
                return;
            }
            index[d] = 0;
        }
    }
}
