package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** How a convolution striding over one output position is described to oneDNN, or left to another backend. */
class SinglePositionStridesTest {
    private static Window window(int kH, int kW, int sH, int sW, int pad) {
        return new Window(kH, kW, sH, sW, pad, pad, pad, pad, 1, 1, Window.AutoPad.EXPLICIT);
    }

    @Test
    void aStrideOverOneOutputColumnBecomesStrideOneWithTheEndPaddingThatKeepsOneColumn() {
        // The fuzz finding: [1,1,2,1] in, 7x7 kernel, pads 3, strides 1x2, [1,1,2,1] out.
        Window w = window(7, 7, 1, 2, 3);
        long[] strides = {1, 2};
        long[] padEnd = {3, 3};
        SinglePositionStrides.apply(w, Shape.of(1, 1, 2, 1), Shape.of(1, 1, 2, 1), strides, padEnd);
        assertArrayEquals(new long[]{1, 1}, strides);
        assertArrayEquals(new long[]{3, 3}, padEnd, "1 + 3 + 3 - 7 + 1 = one column");
        assertNull(SinglePositionStrides.reason(w, Shape.of(1, 1, 2, 1), Shape.of(1, 1, 2, 1)));

        // A stride over one row and one column, with an end padding the stride left unread.
        Window both = window(3, 3, 2, 2, 1);
        long[] s = {2, 2};
        long[] p = {1, 1};
        SinglePositionStrides.apply(both, Shape.of(1, 4, 2, 2), Shape.of(1, 4, 1, 1), s, p);
        assertArrayEquals(new long[]{1, 1}, s);
        assertArrayEquals(new long[]{0, 0}, p, "2 + 1 + 0 - 3 + 1 = one position");
    }

    @Test
    void severalOutputPositionsKeepTheirStride() {
        Window w = window(7, 7, 1, 2, 3);
        long[] strides = {1, 2};
        long[] padEnd = {3, 3};
        SinglePositionStrides.apply(w, Shape.of(1, 1, 4, 3), Shape.of(1, 1, 4, 2), strides, padEnd);
        assertArrayEquals(new long[]{1, 2}, strides);
        assertArrayEquals(new long[]{3, 3}, padEnd);
    }

    @Test
    void anInputPastTheOneWindowIsNotGivenToOneDnn() {
        // [2,1,6,5] in, 3x3 kernel without padding, stride 4 across: one column, two input columns past the window.
        Window w = new Window(3, 3, 1, 4, 1, 0, 1, 0, 1, 1, Window.AutoPad.EXPLICIT);
        assertNotNull(SinglePositionStrides.reason(w, Shape.of(2, 1, 6, 5), Shape.of(2, 1, 6, 1)));
    }
}
