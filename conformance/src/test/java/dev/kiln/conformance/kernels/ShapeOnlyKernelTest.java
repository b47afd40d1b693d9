package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.testing.TestValues.ramp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Ops that keep every value and its order: Flatten, Reshape, Identity and Dropout at inference. */
class ShapeOnlyKernelTest {
    private static final Shape NCHW = Shape.of(2, 3, 2, 2);
    private static final float[] VALUES = ramp(24);

    private static Output run(dev.kiln.graph.ops.Op op) {
        return OneNodeGraph.of(op).input(NCHW, VALUES).run();
    }

    @Test
    void flattenAxis0PutsEverythingInOneRow() {
        Output y = run(new Flatten(0));
        assertEquals(Shape.of(1, 24), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void flattenAxis1KeepsTheBatch() {
        Output y = run(new Flatten(1));
        assertEquals(Shape.of(2, 12), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void flattenAxis2MergesBatchWithChannels() {
        Output y = run(new Flatten(2));
        assertEquals(Shape.of(6, 4), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void flattenNegativeAxisCountsFromTheEnd() {
        Output y = run(new Flatten(-1));
        assertEquals(Shape.of(12, 2), y.shape());
    }

    @Test
    void reshapeZeroCopiesADimensionAndMinusOneTakesTheRest() {
        Output y = run(new Reshape(0, -1));
        assertEquals(Shape.of(2, 12), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void reshapeMinusOneFirst() {
        Output y = run(new Reshape(-1, 4));
        assertEquals(Shape.of(6, 4), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void reshapeWithTwoCopiedDimensions() {
        Output y = run(new Reshape(0, 0, -1));
        assertEquals(Shape.of(2, 3, 4), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void reshapeToAFullyGivenShape() {
        Output y = run(new Reshape(4, 3, 2));
        assertEquals(Shape.of(4, 3, 2), y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void reshapeWithAllowZeroKeepsALiteralZero() {
        // With allowZero, 0 means an empty dimension: [0, 3] becomes [3, 0] (without it, the
        // 0 would copy the input's 3 and ask for 9 elements).
        Output y = OneNodeGraph.of(new Reshape(new int[] {3, 0}, true)).input(Shape.of(0, 3)).run();
        assertEquals(Shape.of(3, 0), y.shape());
        assertEquals(0, y.values().length);
    }

    @Test
    void identityCopies() {
        Output y = run(Passthrough.IDENTITY);
        assertEquals(NCHW, y.shape());
        assertArrayEquals(VALUES, y.values());
    }

    @Test
    void dropoutPassesValuesThroughAndItsMaskIsAllOnes() {
        List<Output> outputs = OneNodeGraph.of(Passthrough.DROPOUT).input(NCHW, VALUES).outputs(2).runAll();
        assertEquals(NCHW, outputs.get(0).shape());
        assertArrayEquals(VALUES, outputs.get(0).values());
        assertEquals(NCHW, outputs.get(1).shape());
        float[] ones = new float[24];
        java.util.Arrays.fill(ones, 1f);
        assertArrayEquals(ones, outputs.get(1).values());
    }

    @Test
    void dropoutIgnoresItsRatioInput() {
        Output y = OneNodeGraph.of(Passthrough.DROPOUT).input(NCHW, VALUES).constant(Shape.of(1), 0.5f).run();
        assertArrayEquals(VALUES, y.values());
    }
}
