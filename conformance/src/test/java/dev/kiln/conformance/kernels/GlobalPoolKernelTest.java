package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.ramp;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GlobalAveragePool and GlobalMaxPool. */
class GlobalPoolKernelTest {
    // Two images of two channels of 2x2: plane p holds 4p+1 .. 4p+4.
    private final float[] x = ramp(16);

    @Test
    void averageOfEachPlane() {
        Output y = pool(GlobalPool.AVERAGE, Shape.of(2, 2, 2, 2), x);
        assertEquals(Shape.of(2, 2, 1, 1), y.shape());
        assertClose(new float[] {2.5f, 6.5f, 10.5f, 14.5f}, y.values());
    }

    @Test
    void maxOfEachPlane() {
        float[] negative = new float[16];
        for (int i = 0; i < 16; i++) {
            negative[i] = -x[i];
        }
        Output y = pool(GlobalPool.MAX, Shape.of(2, 2, 2, 2), negative);
        assertEquals(Shape.of(2, 2, 1, 1), y.shape());
        assertClose(new float[] {-1, -5, -9, -13}, y.values());
    }

    @Test
    void maxFindsTheLargestWhereverItIs() {
        Output y = pool(GlobalPool.MAX, Shape.of(1, 1, 4, 4), MaxPoolKernelTest.SCATTERED_4X4);
        assertClose(new float[] {16}, y.values());
    }

    @Test
    void averageOverOneSpatialAxis() {
        Output y = pool(GlobalPool.AVERAGE, Shape.of(1, 2, 3), new float[] {1, 2, 6, -1, -2, -6});
        assertEquals(Shape.of(1, 2, 1), y.shape());
        assertClose(new float[] {3, -3}, y.values());
    }

    private static Output pool(GlobalPool op, Shape shape, float[] x) {
        return OneNodeGraph.of(op).input(shape, x).run();
    }
}
