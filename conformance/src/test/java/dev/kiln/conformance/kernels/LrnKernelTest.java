package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LRN across channels. The hand cases take alpha = size (so alpha / size = 1), beta 1 and bias
 * 1, so y[c] = x[c] / (1 + sum of squares over the window), on channels holding 1 .. 5.
 */
class LrnKernelTest {
    private static final float[] CHANNELS = {1, 2, 3, 4, 5};

    private static Output lrn(int size) {
        return OneNodeGraph.of(new Lrn(size, size, 1f, 1f)).input(Shape.of(1, 5, 1, 1), CHANNELS).run();
    }

    @Test
    void sizeThreeLooksOneChannelEachWayAndStopsAtTheEdges() {
        Output y = lrn(3);
        assertEquals(Shape.of(1, 5, 1, 1), y.shape());
        // Windows {0,1}, {0,1,2}, {1,2,3}, {2,3,4}, {3,4}.
        assertClose(new float[] {1 / 6f, 2 / 15f, 3 / 30f, 4 / 51f, 5 / 42f}, y.values());
    }

    @Test
    void sizeFiveLooksTwoChannelsEachWay() {
        Output y = lrn(5);
        // Windows {0,1,2}, {0..3}, {0..4}, {1..4}, {2,3,4}.
        assertClose(new float[] {1 / 15f, 2 / 31f, 3 / 56f, 4 / 55f, 5 / 51f}, y.values());
    }

    @Test
    void evenSizeReachesFurtherForward() {
        // Size 4: one channel back, two forward. Windows {0,1,2}, {0..3}, {1..4}, {2,3,4}, {3,4}.
        Output y = lrn(4);
        assertClose(new float[] {1 / 15f, 2 / 31f, 3 / 55f, 4 / 51f, 5 / 42f}, y.values());
    }

    @Test
    void matchesTheFormulaWithFractionalBetaOverABatch() {
        int n = 2, c = 6, spatial = 3, size = 5;
        float alpha = 0.5f, beta = 0.75f, bias = 2f;
        float[] x = uniform(n * c * spatial, 71);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 3;
        }
        double[] expected = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int s = 0; s < spatial; s++) {
                    double squares = 0;
                    for (int j = Math.max(0, ch - 2); j <= Math.min(c - 1, ch + 2); j++) {
                        double v = x[(b * c + j) * spatial + s];
                        squares += v * v;
                    }
                    int i = (b * c + ch) * spatial + s;
                    expected[i] = x[i] / Math.pow(bias + alpha / size * squares, beta);
                }
            }
        }
        Output y = OneNodeGraph.of(new Lrn(size, alpha, beta, bias)).input(Shape.of(n, c, 1, spatial), x).run();
        assertClose(expected, y.values());
    }
}
