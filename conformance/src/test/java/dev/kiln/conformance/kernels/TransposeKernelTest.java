package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TransposeKernelTest {

    @Test
    void matrixTranspose() {
        Output y = OneNodeGraph.of(new Transpose(new int[] {1, 0})).input(Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6})
                .run();
        assertEquals(Shape.of(3, 2), y.shape());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, y.values());
    }

    @Test
    void emptyPermReversesTheAxes() {
        assertEquals(List.of(Shape.of(4, 3, 2)), new Transpose(new int[0]).inferShapes(List.of(Shape.of(2, 3, 4))));
    }

    @Test
    void rank4PermutationMovesEveryElementToItsPermutedIndex() {
        // NCHW [2,3,4,5] -> NHWC [2,4,5,3]: y[n][h][w][c] = x[n][c][h][w], x's value its own flat index.
        int n = 2, c = 3, h = 4, w = 5;
        float[] x = new float[n * c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        Output y = OneNodeGraph.of(new Transpose(new int[] {0, 2, 3, 1})).input(Shape.of(n, c, h, w), x).run();
        assertEquals(Shape.of(n, h, w, c), y.shape());
        for (int in = 0; in < n; in++) {
            for (int ih = 0; ih < h; ih++) {
                for (int iw = 0; iw < w; iw++) {
                    for (int ic = 0; ic < c; ic++) {
                        float expected = ((in * c + ic) * h + ih) * w + iw;
                        assertEquals(expected, y.values()[((in * h + ih) * w + iw) * c + ic]);
                    }
                }
            }
        }
    }

    @Test
    void aPermThatIsNotAPermutationIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Transpose(new int[] {0, 0}));
        assertThrows(IllegalArgumentException.class, () -> new Transpose(new int[] {0, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> new Transpose(new int[] {1, 0}).inferShapes(List.of(Shape.of(2, 3, 4))));
    }
}
