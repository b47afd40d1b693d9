package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Window;

/**
 * A convolution's strides along an axis where its output has one position. There the stride
 * steps over nothing, yet oneDNN 3.13's brg_conv_fwd:avx512_core computes every output row after
 * the first wrong for some of them (one channel, one output column, a stride of 2 or more across
 * it: fuzz finding onednn-stride-over-one-output-column), while the same convolution described
 * with stride 1 is right. So such an axis is described with stride 1 and the end padding that
 * keeps one position: the same sums over the same zeros. Where that padding would be negative (the
 * input reaches past the one window, which oneDNN refuses) the node is not given to oneDNN.
 */
final class SinglePositionStrides {
    private SinglePositionStrides() {
    }

    /**
     * Sets stride 1, and the end padding that keeps one position, along each such axis
     * ({@code strides} and {@code padEnd} are [H, W]).
     */
    static void apply(Window w, Shape in, Shape out, long[] strides, long[] padEnd) {
        for (int axis = 0; axis < 2; axis++) {
            if (isStridedSingle(w, out, axis)) {
                strides[axis] = 1;
                padEnd[axis] = end(w, in, axis);
            }
        }
    }

    /** Null when every such axis can be described with stride 1, else why not. */
    static String reason(Window w, Shape in, Shape out) {
        for (int axis = 0; axis < 2; axis++) {
            if (isStridedSingle(w, out, axis) && end(w, in, axis) < 0) {
                return "a stride of " + (axis == 0 ? w.strideH() : w.strideW()) + " over one output position, with"
                        + " input past the window: oneDNN's brg_conv_fwd computes some such convolutions wrong";
            }
        }
        return null;
    }

    private static boolean isStridedSingle(Window w, Shape out, int axis) {
        return out.dim(2 + axis) == 1 && (axis == 0 ? w.strideH() : w.strideW()) > 1;
    }

    /** The end padding that, with stride 1, keeps one output position along {@code axis}. */
    private static long end(Window w, Shape in, int axis) {
        long reach = axis == 0 ? (w.kernelH() - 1L) * w.dilationH() + 1 : (w.kernelW() - 1L) * w.dilationW() + 1;
        return reach - in.dim(2 + axis) - (axis == 0 ? w.padTop() : w.padLeft());
    }
}
