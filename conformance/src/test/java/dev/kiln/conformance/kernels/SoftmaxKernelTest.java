package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoftmaxKernelTest {

    @Test
    void lastAxisOfARowOfLogs() {
        // exp(0), exp(ln 2), exp(ln 3) are 1, 2, 3: the softmax is 1/6, 2/6, 3/6.
        // A row of equal values gives 1/3 each.
        Output y = OneNodeGraph.of(new Softmax(-1))
                .input(Shape.of(2, 3), 0, (float) Math.log(2), (float) Math.log(3), 7, 7, 7)
                .run();
        assertEquals(Shape.of(2, 3), y.shape());
        assertClose(new float[] {1 / 6f, 2 / 6f, 3 / 6f, 1 / 3f, 1 / 3f, 1 / 3f}, y.values());
    }

    @Test
    void channelAxisOfAnImageNormalisesEachPositionAcrossChannels() {
        // [1, 3, 1, 2]: position 0 holds 0, ln 2, ln 3 across the channels; position 1 holds
        // 0 in every channel.
        float ln2 = (float) Math.log(2), ln3 = (float) Math.log(3);
        Output y = OneNodeGraph.of(new Softmax(1))
                .input(Shape.of(1, 3, 1, 2), 0, 0, ln2, 0, ln3, 0)
                .run();
        assertClose(new float[] {1 / 6f, 1 / 3f, 2 / 6f, 1 / 3f, 3 / 6f, 1 / 3f}, y.values());
    }

    @Test
    void channelAxisOfABatchMatchesTheFormula() {
        int n = 2, c = 4, spatial = 3;
        float[] x = uniform(n * c * spatial, 61);
        double[] expected = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int s = 0; s < spatial; s++) {
                double sum = 0;
                for (int k = 0; k < c; k++) {
                    sum += Math.exp(x[(b * c + k) * spatial + s]);
                }
                for (int k = 0; k < c; k++) {
                    int i = (b * c + k) * spatial + s;
                    expected[i] = Math.exp(x[i]) / sum;
                }
            }
        }
        Output y = OneNodeGraph.of(new Softmax(1)).input(Shape.of(n, c, 1, spatial), x).run();
        assertClose(expected, y.values(), 1e-6);
    }

    @Test
    void coerceTo2dNormalisesOverEverythingFromTheAxisOn() {
        // Opset 1-12 semantics on [2, 2, 2] with axis 1: each image's four values form one row.
        float ln2 = (float) Math.log(2), ln3 = (float) Math.log(3);
        Output y = OneNodeGraph.of(new Softmax(1, true))
                .input(Shape.of(2, 2, 2), 0, 0, ln2, ln2, 0, ln2, 0, ln3)
                .run();
        assertEquals(Shape.of(2, 2, 2), y.shape());
        assertClose(new float[] {1 / 6f, 1 / 6f, 2 / 6f, 2 / 6f, 1 / 7f, 2 / 7f, 1 / 7f, 3 / 7f}, y.values());
    }

    @Test
    void coerceTo2dDiffersFromPerAxisSoftmaxOnTheSameInput() {
        float[] x = {0, 1, 2, 3, 4, 5, 6, 7};
        Output perAxis = OneNodeGraph.of(new Softmax(1)).input(Shape.of(2, 2, 2), x).run();
        // Per axis 1, the pairs (0, 2) and (1, 3) of the first image each sum to 1.
        assertClose(new float[] {1f}, new float[] {perAxis.values()[0] + perAxis.values()[2]});
        Output coerced = OneNodeGraph.of(new Softmax(1, true)).input(Shape.of(2, 2, 2), x).run();
        float firstImage = 0;
        for (int i = 0; i < 4; i++) {
            firstImage += coerced.values()[i];
        }
        assertClose(new float[] {1f}, new float[] {firstImage});
    }

    @Test
    void largeLogitsStayFinite() {
        // softmax(1000, 1001) = softmax(0, 1) = (1, e) / (1 + e); a naive exp would overflow.
        Output y = OneNodeGraph.of(new Softmax(-1)).input(Shape.of(1, 2), 1000, 1001).run();
        double e = Math.E;
        assertClose(new double[] {1 / (1 + e), e / (1 + e)}, y.values());
        Output negative = OneNodeGraph.of(new Softmax(-1)).input(Shape.of(1, 3), -1000, -1000, -1000).run();
        assertClose(new float[] {1 / 3f, 1 / 3f, 1 / 3f}, negative.values());
        for (float v : y.values()) {
            assertTrue(Float.isFinite(v));
        }
    }
}
