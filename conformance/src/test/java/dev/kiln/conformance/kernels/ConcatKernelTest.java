package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ConcatKernelTest {

    @Test
    void channelAxisStacksPlanesPerImage() {
        // Two images; input a has 1 channel of 2 values, b has 2 channels. Per image: a's plane,
        // then b's two planes.
        Output y = OneNodeGraph.of(new Concat(1))
                .input(Shape.of(2, 1, 2), 1, 2, 3, 4)
                .input(Shape.of(2, 2, 2), 10, 20, 30, 40, 50, 60, 70, 80)
                .run();
        assertEquals(Shape.of(2, 3, 2), y.shape());
        assertClose(new float[] {1, 2, 10, 20, 30, 40, 3, 4, 50, 60, 70, 80}, y.values());
    }

    @Test
    void threeInceptionStyleBranches() {
        // [1, c, 1, 2] branches with 1, 2 and 1 channels, the middle one a constant.
        Output y = OneNodeGraph.of(new Concat(1))
                .input(Shape.of(1, 1, 1, 2), 1, 2)
                .constant(Shape.of(1, 2, 1, 2), 3, 4, 5, 6)
                .input(Shape.of(1, 1, 1, 2), 7, 8)
                .run();
        assertEquals(Shape.of(1, 4, 1, 2), y.shape());
        assertClose(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, y.values());
    }

    @Test
    void lastAxisByNegativeIndexInterleavesRows() {
        // Rank 3, so that axis -1 (= 2) differs from axis 1.
        Output y = OneNodeGraph.of(new Concat(-1))
                .input(Shape.of(2, 1, 2), 1, 2, 3, 4)
                .input(Shape.of(2, 1, 1), 10, 20)
                .run();
        assertEquals(Shape.of(2, 1, 3), y.shape());
        assertClose(new float[] {1, 2, 10, 3, 4, 20}, y.values());
    }

    @Test
    void firstAxisAppendsWholeTensors() {
        Output y = OneNodeGraph.of(new Concat(0))
                .input(Shape.of(1, 2), 1, 2)
                .input(Shape.of(2, 2), 3, 4, 5, 6)
                .run();
        assertEquals(Shape.of(3, 2), y.shape());
        assertClose(new float[] {1, 2, 3, 4, 5, 6}, y.values());
    }

    @Test
    void aSingleInputIsCopied() {
        Output y = OneNodeGraph.of(new Concat(1)).input(Shape.of(1, 3), 1, 2, 3).run();
        assertEquals(Shape.of(1, 3), y.shape());
        assertClose(new float[] {1, 2, 3}, y.values());
    }
}
