package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Window;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.ramp;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** AveragePool on small images worked out by hand, above all its divisor at the edges. */
class AveragePoolKernelTest {

    /** 1..16 in a 4x4 image: a window's sum is easy to add up by row. */
    private static final float[] RAMP_4X4 = ramp(16);

    private final float[] ramp3x3 = ramp(9);

    @Test
    void excludingPaddingDividesByTheRealPositions() {
        Output y = pool(new AveragePool(Window.square(3, 1, 1), false, false), Shape.of(1, 1, 3, 3), ramp3x3);
        assertEquals(Shape.of(1, 1, 3, 3), y.shape());
        assertClose(new float[] {
                (1 + 2 + 4 + 5) / 4f, (1 + 2 + 3 + 4 + 5 + 6) / 6f, (2 + 3 + 5 + 6) / 4f,
                (1 + 2 + 4 + 5 + 7 + 8) / 6f, 45 / 9f, (2 + 3 + 5 + 6 + 8 + 9) / 6f,
                (4 + 5 + 7 + 8) / 4f, (4 + 5 + 6 + 7 + 8 + 9) / 6f, (5 + 6 + 8 + 9) / 4f}, y.values());
    }

    @Test
    void includingPaddingAlwaysDividesByTheKernelArea() {
        Output y = pool(new AveragePool(Window.square(3, 1, 1), false, true), Shape.of(1, 1, 3, 3), ramp3x3);
        assertClose(new float[] {12 / 9f, 21 / 9f, 16 / 9f, 27 / 9f, 45 / 9f, 33 / 9f, 24 / 9f, 39 / 9f, 28 / 9f},
                y.values());
    }

    @Test
    void ceilModeWindowsPastTheInputCountOnlyRealPositions() {
        // Kernel 2 stride 2 on 3x3, ceil mode: the last row and column of windows hang over
        // the edge. Without explicit padding there is nothing to include, whatever the flag.
        float[] expected = {(1 + 2 + 4 + 5) / 4f, (3 + 6) / 2f, (7 + 8) / 2f, 9};
        for (boolean countIncludePad : new boolean[] {false, true}) {
            Output y = pool(new AveragePool(Window.square(2, 2, 0), true, countIncludePad), Shape.of(1, 1, 3, 3),
                    ramp3x3);
            assertEquals(Shape.of(1, 1, 2, 2), y.shape());
            assertClose(expected, y.values());
        }
    }

    /*
     * Kernel 3, stride 2, pad 1, ceil mode on the 4x4 ramp: windows start at -1, 1 and 3 in
     * each axis and cover real rows {0,1}, {1,2,3} and {3}. With count_include_pad the
     * divisor is the window clipped to the input plus its explicit padding (rows -1..4):
     * 3, 3 and 2 rows (the third window's row 5 is ceil mode's, not padding).
     */

    @Test
    void ceilModeWithPaddingIncludedCountsExplicitPadsButNotCeilOverhang() {
        Output y = pool(new AveragePool(Window.square(3, 2, 1), true, true), Shape.of(1, 1, 4, 4), RAMP_4X4);
        assertEquals(Shape.of(1, 1, 3, 3), y.shape());
        assertClose(new float[] {
                14 / 9f, 30 / 9f, 12 / 6f,
                57 / 9f, 99 / 9f, 36 / 6f,
                27 / 6f, 45 / 6f, 16 / 4f}, y.values());
    }

    @Test
    void ceilModeWithPaddingExcludedCountsRealPositionsOnly() {
        Output y = pool(new AveragePool(Window.square(3, 2, 1), true, false), Shape.of(1, 1, 4, 4), RAMP_4X4);
        assertEquals(Shape.of(1, 1, 3, 3), y.shape());
        assertClose(new float[] {
                14 / 4f, 30 / 6f, 12 / 2f,
                57 / 6f, 99 / 9f, 36 / 3f,
                27 / 2f, 45 / 3f, 16 / 1f}, y.values());
    }

    @Test
    void asymmetricPadsAreCountedOnlyWhereTheyAre() {
        // 1x2 windows, stride 2, one pad on the left only, over the row 1 2 3 4:
        // windows {pad, 1}, {2, 3}, {4}; the last has no right pad to include.
        Window w = Window.of(1, 2).withStrides(1, 2).withPads(0, 1, 0, 0);
        Output included = pool(new AveragePool(w, true, true), Shape.of(1, 1, 1, 4), new float[] {1, 2, 3, 4});
        assertEquals(Shape.of(1, 1, 1, 3), included.shape());
        assertClose(new float[] {1 / 2f, 5 / 2f, 4}, included.values());
        Output excluded = pool(new AveragePool(w, true, false), Shape.of(1, 1, 1, 4), new float[] {1, 2, 3, 4});
        assertClose(new float[] {1, 5 / 2f, 4}, excluded.values());
    }

    @Test
    void eachPlaneOfABatchIsPooledOnItsOwn() {
        float[] x = new float[2 * 2 * 9];
        for (int i = 0; i < x.length; i++) {
            x[i] = ramp3x3[i % 9] + 100 * (i / 9);
        }
        Output y = pool(new AveragePool(Window.square(2, 2, 0), true, false), Shape.of(2, 2, 3, 3), x);
        float[] expected = new float[16];
        float[] onePlane = {3, 4.5f, 7.5f, 9};
        for (int i = 0; i < 16; i++) {
            expected[i] = onePlane[i % 4] + 100 * (i / 4);
        }
        assertClose(expected, y.values());
    }

    private static Output pool(AveragePool op, Shape shape, float[] x) {
        return OneNodeGraph.of(op).input(shape, x).run();
    }
}
