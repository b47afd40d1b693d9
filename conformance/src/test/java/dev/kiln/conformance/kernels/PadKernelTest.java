package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.ops.Pad;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Constant padding, checked against layouts written out by hand. */
class PadKernelTest {

    @Test
    void padsTheSpatialAxesOfAnImageAsymmetrically() {
        // One 2x2 plane, one row above and two columns to the right, filled with 9.
        Output y = OneNodeGraph.of(new Pad(new int[] {0, 0, 1, 0, 0, 0, 0, 2}, 9))
                .input(Shape.of(1, 1, 2, 2), 1, 2, 3, 4).run();
        assertEquals(Shape.of(1, 1, 3, 4), y.shape());
        assertArrayEquals(new float[] {
                9, 9, 9, 9,
                1, 2, 9, 9,
                3, 4, 9, 9}, y.values());
    }

    @Test
    void padsTheBatchAndChannelAxesToo() {
        // [1, 2] -> one zero plane before along axis 0, one zero column after along axis 1.
        Output y = OneNodeGraph.of(new Pad(new int[] {1, 0, 0, 1}, 0))
                .input(Shape.of(1, 2), 5, 6).run();
        assertEquals(Shape.of(2, 3), y.shape());
        assertArrayEquals(new float[] {0, 0, 0, 5, 6, 0}, y.values());
    }

    @Test
    void padsEveryAxisOfARank3Tensor() {
        Output y = OneNodeGraph.of(new Pad(new int[] {0, 1, 1, 0, 0, 1}, -1))
                .input(Shape.of(2, 1, 1), 7, 8).run();
        assertEquals(Shape.of(2, 2, 3), y.shape());
        assertArrayEquals(new float[] {
                -1, -1, -1, -1, 7, -1,
                -1, -1, -1, -1, 8, -1}, y.values());
    }

    @Test
    void zeroPadsCopyTheInput() {
        Output y = OneNodeGraph.of(new Pad(new int[] {0, 0, 0, 0}, 3)).input(Shape.of(2, 2), 1, 2, 3, 4).run();
        assertArrayEquals(new float[] {1, 2, 3, 4}, y.values());
    }

    @Test
    void refusesNegativePadsAndPadsOfTheWrongRank() {
        assertThrows(IllegalArgumentException.class, () -> new Pad(new int[] {0, -1}, 0));
        assertThrows(IllegalArgumentException.class, () -> new Pad(new int[] {0, 1, 2}, 0));
        GraphValidationException e = assertThrows(GraphValidationException.class,
                () -> OneNodeGraph.of(new Pad(new int[] {1, 1}, 0)).input(Shape.of(2, 2)).build());
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
    }
}
