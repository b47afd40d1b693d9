package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Binary;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BinaryKernelTest {

    @Test
    void addOfSameShapes() {
        Output y = run(Binary.ADD, Shape.of(2, 2), new float[] {1, 2, 3, 4}, Shape.of(2, 2),
                new float[] {10, 20, 30, 40});
        assertEquals(Shape.of(2, 2), y.shape());
        assertClose(new float[] {11, 22, 33, 44}, y.values());
    }

    @Test
    void addBroadcastsARowVectorOverEveryRow() {
        Output y = run(Binary.ADD, Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6}, Shape.of(3),
                new float[] {10, 20, 30});
        assertEquals(Shape.of(2, 3), y.shape());
        assertClose(new float[] {11, 22, 33, 14, 25, 36}, y.values());
    }

    @Test
    void mulScalesEachChannelAsSqueezeExcitationDoes() {
        // [1, 2, 2, 2] times per-channel [1, 2, 1, 1]: channel 0 doubles, channel 1 is negated.
        Output y = run(Binary.MUL, Shape.of(1, 2, 2, 2), new float[] {1, 2, 3, 4, 5, 6, 7, 8}, Shape.of(1, 2, 1, 1),
                new float[] {2, -1});
        assertEquals(Shape.of(1, 2, 2, 2), y.shape());
        assertClose(new float[] {2, 4, 6, 8, -5, -6, -7, -8}, y.values());
    }

    @Test
    void mulBroadcastsPerImageAndPerChannelInABatch() {
        // [2, 2, 1, 2] times [2, 2, 1, 1]: each (image, channel) plane has its own factor.
        Output y = run(Binary.MUL, Shape.of(2, 2, 1, 2), new float[] {1, 2, 3, 4, 5, 6, 7, 8}, Shape.of(2, 2, 1, 1),
                new float[] {1, 10, 100, 1000});
        assertClose(new float[] {1, 2, 30, 40, 500, 600, 7000, 8000}, y.values());
    }

    @Test
    void aOneElementLeftOperandBroadcastsToTheRight() {
        Output y = run(Binary.ADD, Shape.of(1), new float[] {5}, Shape.of(2, 2), new float[] {1, 2, 3, 4});
        assertEquals(Shape.of(2, 2), y.shape());
        assertClose(new float[] {6, 7, 8, 9}, y.values());
    }

    @Test
    void subKeepsOperandOrderWhenTheLeftIsBroadcast() {
        Output y = run(new Binary(Binary.Kind.SUB), Shape.of(1), new float[] {5}, Shape.of(2, 2),
                new float[] {1, 2, 3, 4});
        assertClose(new float[] {4, 3, 2, 1}, y.values());
    }

    @Test
    void columnPlusRowIsAnOuterSum() {
        Output y = run(Binary.ADD, Shape.of(2, 1), new float[] {1, 2}, Shape.of(1, 3), new float[] {10, 20, 30});
        assertEquals(Shape.of(2, 3), y.shape());
        assertClose(new float[] {11, 21, 31, 12, 22, 32}, y.values());
    }

    @Test
    void subOfColumnAndRow() {
        Output y = run(new Binary(Binary.Kind.SUB), Shape.of(2, 1), new float[] {1, 2}, Shape.of(1, 3),
                new float[] {10, 20, 30});
        assertClose(new float[] {-9, -19, -29, -8, -18, -28}, y.values());
    }

    @Test
    void divBroadcastsTheDivisor() {
        Output y = run(new Binary(Binary.Kind.DIV), Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6}, Shape.of(3),
                new float[] {1, 2, 4});
        assertClose(new float[] {1, 1, 0.75f, 4, 2.5f, 1.5f}, y.values());
    }

    @Test
    void divByAOneElementTensor() {
        Output y = run(new Binary(Binary.Kind.DIV), Shape.of(2, 2), new float[] {1, 2, 3, 4}, Shape.of(1),
                new float[] {4});
        assertClose(new float[] {0.25f, 0.5f, 0.75f, 1}, y.values());
    }

    @Test
    void ranksAreAlignedFromTheRight() {
        // [2, 1, 3] + [2, 1] gives [2, 2, 3]: out[i][j][k] = a[i][0][k] + b[j][0].
        Output y = run(Binary.ADD, Shape.of(2, 1, 3), new float[] {1, 2, 3, 4, 5, 6}, Shape.of(2, 1),
                new float[] {10, 20});
        assertEquals(Shape.of(2, 2, 3), y.shape());
        assertClose(new float[] {11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26}, y.values());
    }

    @Test
    void aConstantOperandWorksLikeAnInput() {
        Output y = OneNodeGraph.of(Binary.MUL)
                .input(Shape.of(3), 1, 2, 3)
                .constant(Shape.of(1), -2)
                .run();
        assertClose(new float[] {-2, -4, -6}, y.values());
    }

    private static Output run(Binary op, Shape aShape, float[] a, Shape bShape, float[] b) {
        return OneNodeGraph.of(op).input(aShape, a).input(bShape, b).run();
    }
}
