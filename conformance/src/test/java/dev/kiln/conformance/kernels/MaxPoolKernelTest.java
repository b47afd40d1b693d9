package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** MaxPool on small images worked out by hand. */
class MaxPoolKernelTest {

    /**
     * A 4x4 image whose maxima are not all in the bottom-right corner, so that a window in the
     * wrong place gives a different answer.
     * <pre>
     *  3  9  1  4
     *  7  2 16  5
     * 11  6 10 13
     *  8 15 12 14
     * </pre>
     */
    static final float[] SCATTERED_4X4 = {3, 9, 1, 4, 7, 2, 16, 5, 11, 6, 10, 13, 8, 15, 12, 14};

    @Test
    void twoByTwoStrideTwo() {
        Output y = pool(new MaxPool(Window.square(2, 2, 0), false), Shape.of(1, 1, 4, 4), SCATTERED_4X4);
        assertEquals(Shape.of(1, 1, 2, 2), y.shape());
        assertClose(new float[] {9, 16, 15, 14}, y.values());
    }

    @Test
    void stride1Pad1AsInGoogLeNetNeverLetsThePaddingWin() {
        // All values negative: if padded positions counted as 0 they would win everywhere.
        float[] x = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
        Output y = pool(new MaxPool(Window.square(3, 1, 1), false), Shape.of(1, 1, 3, 3), x);
        assertEquals(Shape.of(1, 1, 3, 3), y.shape());
        assertClose(new float[] {-1, -1, -2, -1, -1, -2, -4, -4, -5}, y.values());
    }

    @Test
    void threeByThreeStride2Pad1AsInTheResNetStem() {
        // Windows start at -1 and 1 in each axis: rows/cols {0,1} and {1,2,3}.
        Output y = pool(new MaxPool(Window.square(3, 2, 1), false), Shape.of(1, 1, 4, 4), SCATTERED_4X4);
        assertEquals(Shape.of(1, 1, 2, 2), y.shape());
        assertClose(new float[] {9, 16, 15, 16}, y.values());
    }

    @Test
    void ceilModeAddsAPartialWindowAtTheEnd() {
        // Kernel 3 stride 2 on 4: floor mode gives one window, ceil mode a second one that
        // starts at 2 and covers only rows/cols 2 and 3.
        Output floor = pool(new MaxPool(Window.square(3, 2, 0), false), Shape.of(1, 1, 4, 4), SCATTERED_4X4);
        assertEquals(Shape.of(1, 1, 1, 1), floor.shape());
        assertClose(new float[] {16}, floor.values());

        Output ceil = pool(new MaxPool(Window.square(3, 2, 0), true), Shape.of(1, 1, 4, 4), SCATTERED_4X4);
        assertEquals(Shape.of(1, 1, 2, 2), ceil.shape());
        assertClose(new float[] {16, 16, 15, 14}, ceil.values());
    }

    @Test
    void dilationTwoSamplesEveryOtherPosition() {
        // Kernel 2 with dilation 2 reads (r, c), (r, c+2), (r+2, c), (r+2, c+2).
        Output y = pool(new MaxPool(Window.of(2, 2).withDilations(2, 2), false), Shape.of(1, 1, 4, 4),
                SCATTERED_4X4);
        assertEquals(Shape.of(1, 1, 2, 2), y.shape());
        assertClose(new float[] {11, 13, 16, 15}, y.values());
    }

    @Test
    void eachPlaneOfABatchIsPooledOnItsOwn() {
        // Four planes (2 images x 2 channels), plane p is the scattered image plus 100 p.
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            x[i] = SCATTERED_4X4[i % 16] + 100 * (i / 16);
        }
        Output y = pool(new MaxPool(Window.square(2, 2, 0), false), Shape.of(2, 2, 4, 4), x);
        assertEquals(Shape.of(2, 2, 2, 2), y.shape());
        assertClose(new float[] {9, 16, 15, 14, 109, 116, 115, 114, 209, 216, 215, 214, 309, 316, 315, 314},
                y.values());
    }

    private static Output pool(MaxPool op, Shape shape, float[] x) {
        return OneNodeGraph.of(op).input(shape, x).run();
    }
}
