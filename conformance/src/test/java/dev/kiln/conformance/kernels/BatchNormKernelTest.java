package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BatchNormKernelTest {

    @Test
    void normalisesEachChannelWithItsOwnStatistics() {
        // Epsilon 0 keeps the arithmetic exact. Channel 0: scale 2, bias 1, mean 3, variance 4,
        // so y = 2 (x - 3) / 2 + 1 = x - 2. Channel 1: scale 0.5, bias -1, mean 0, variance 0.25,
        // so y = 0.5 x / 0.5 - 1 = x - 1.
        Output y = OneNodeGraph.of(new BatchNormalization(0f))
                .input(Shape.of(1, 2, 1, 3), 1, 2, 3, 10, 20, 30)
                .constant(Shape.of(2), 2, 0.5f)
                .constant(Shape.of(2), 1, -1)
                .constant(Shape.of(2), 3, 0)
                .constant(Shape.of(2), 4, 0.25f)
                .run();
        assertEquals(Shape.of(1, 2, 1, 3), y.shape());
        assertClose(new float[] {-1, 0, 1, 9, 19, 29}, y.values());
    }

    @Test
    void epsilonIsAddedToTheVariance() {
        // Variance 0 with epsilon 0.25: divide by sqrt(0.25) = 0.5, so y = 2 x.
        Output y = OneNodeGraph.of(new BatchNormalization(0.25f))
                .input(Shape.of(1, 1, 2), 1, -3)
                .constant(Shape.of(1), 1)
                .constant(Shape.of(1), 0)
                .constant(Shape.of(1), 0)
                .constant(Shape.of(1), 0)
                .run();
        assertClose(new float[] {2, -6}, y.values());
    }

    @Test
    void matchesTheFormulaOverABatchOfImages() {
        int batch = 2, channels = 3, spatial = 4;
        float[] x = uniform(batch * channels * spatial, 31);
        float[] scale = uniform(channels, 32), bias = uniform(channels, 33), mean = uniform(channels, 34);
        float[] variance = {0.5f, 1.5f, 0.01f};
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i / spatial % channels;
            expected[i] = scale[c] * (x[i] - mean[c]) / Math.sqrt(variance[c] + 1e-5) + bias[c];
        }
        Output y = OneNodeGraph.of(new BatchNormalization(BatchNormalization.DEFAULT_EPSILON))
                .input(Shape.of(batch, channels, 2, 2), x)
                .constant(Shape.of(channels), scale)
                .constant(Shape.of(channels), bias)
                .constant(Shape.of(channels), mean)
                .constant(Shape.of(channels), variance)
                .run();
        assertClose(expected, y.values());
    }

    @Test
    void worksOnFeatureVectorsWithoutSpatialAxes() {
        // [N, C] as after a fully connected layer: channel 0 shifts by -1, channel 1 doubles.
        Output y = OneNodeGraph.of(new BatchNormalization(0f))
                .input(Shape.of(2, 2), 1, 2, 3, 4)
                .constant(Shape.of(2), 1, 2)
                .constant(Shape.of(2), 0, 0)
                .constant(Shape.of(2), 1, 0)
                .constant(Shape.of(2), 1, 1)
                .run();
        assertEquals(Shape.of(2, 2), y.shape());
        assertClose(new float[] {0, 4, 2, 8}, y.values());
    }
}
