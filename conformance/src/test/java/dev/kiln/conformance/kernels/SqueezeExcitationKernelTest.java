package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SqueezeExcitationKernelTest {

    @Test
    void scalesEachChannelByItsGate() {
        // Channel means 2 and 4. Squeeze: relu(1 * 2 - 1 * 4 + 3) = 1. Excitation: 2 * 1 and
        // -2 * 1, through hard-sigmoid 0.1 x + 0.5: gates 0.7 and 0.3.
        Output y = OneNodeGraph.of(new SqueezeExcitation(ActivationFunction.RELU,
                        ActivationFunction.hardSigmoid(0.1f, 0.5f)))
                .input(Shape.of(1, 2, 1, 2), 1, 3, 2, 6)
                .constant(Shape.of(1, 2, 1, 1), 1, -1)
                .constant(Shape.of(2, 1, 1, 1), 2, -2)
                .constant(Shape.of(1), 3)
                .constant(Shape.of(2), 0, 0)
                .run();
        assertEquals(Shape.of(1, 2, 1, 2), y.shape());
        assertClose(new float[] {0.7f, 2.1f, 0.6f, 1.8f}, y.values());
    }

    @Test
    void matchesTheUnfusedFormulaWithoutBiasesOverABatch() {
        int n = 2, c = 4, r = 2, spatial = 6;
        float[] x = uniform(n * c * spatial, 81), w1 = uniform(r * c, 82), w2 = uniform(c * r, 83);
        double[] expected = new double[x.length];
        for (int b = 0; b < n; b++) {
            double[] mean = new double[c];
            for (int ch = 0; ch < c; ch++) {
                for (int s = 0; s < spatial; s++) {
                    mean[ch] += x[(b * c + ch) * spatial + s] / (double) spatial;
                }
            }
            double[] squeezed = new double[r];
            for (int j = 0; j < r; j++) {
                double sum = 0;
                for (int ch = 0; ch < c; ch++) {
                    sum += w1[j * c + ch] * mean[ch];
                }
                squeezed[j] = sum / (1 + Math.exp(-sum)); // SiLU
            }
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int j = 0; j < r; j++) {
                    sum += w2[ch * r + j] * squeezed[j];
                }
                double gate = 1 / (1 + Math.exp(-sum));
                for (int s = 0; s < spatial; s++) {
                    int i = (b * c + ch) * spatial + s;
                    expected[i] = x[i] * gate;
                }
            }
        }
        Output y = OneNodeGraph.of(new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID))
                .input(Shape.of(n, c, 2, 3), x)
                .constant(Shape.of(r, c, 1, 1), w1)
                .constant(Shape.of(c, r, 1, 1), w2)
                .run();
        assertClose(expected, y.values());
    }
}
