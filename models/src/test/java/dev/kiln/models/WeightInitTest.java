package dev.kiln.models;

import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightInitTest {

    @Test
    void sameNameAndSeedGiveBitIdenticalWeights() {
        try (Graph a = Models.byName("resnet18").build(7); Graph b = Models.byName("resnet18").build(7)) {
            assertEquals(a.initializers().keySet(), b.initializers().keySet());
            a.initializers().forEach((name, tensor) ->
                    assertArrayEquals(tensor.toFloatArray(), b.initializers().get(name).toFloatArray(), name));
        }
    }

    @Test
    void anotherSeedChangesEveryTensor() {
        try (Graph a = Models.byName("resnet18").build(7); Graph b = Models.byName("resnet18").build(8)) {
            a.initializers().forEach((name, tensor) ->
                    assertFalse(java.util.Arrays.equals(tensor.toFloatArray(),
                            b.initializers().get(name).toFloatArray()), name));
        }
    }

    /** ResNet-34 creates more tensors, in another order; the ones it shares with ResNet-18 come out the same. */
    @Test
    void aTensorsValuesDoNotDependOnWhatWasBuiltBeforeIt() {
        try (Graph small = Models.byName("resnet18").build(11); Graph large = Models.byName("resnet34").build(11)) {
            for (String name : List.of("conv1.weight", "bn1.running_var", "layer1.1.conv2.weight",
                    "layer3.0.downsample.0.weight", "layer4.1.bn2.weight", "fc.weight", "fc.bias")) {
                assertArrayEquals(small.initializers().get(name).toFloatArray(),
                        large.initializers().get(name).toFloatArray(), name);
            }
        }
    }

    @Test
    void zerosInitializesEveryTensorToZero() {
        try (Graph graph = Models.byName("mobilenet_v2_0.35").build(WeightInit.ZEROS)) {
            graph.initializers().forEach((name, tensor) -> {
                for (float v : tensor.toFloatArray()) {
                    assertEquals(0f, v, name);
                }
            });
        }
    }

    /** Loading real weights into a ZEROS graph must work, large tensors included, one graph at a time. */
    @Test
    void zeroWeightsCanBeOverwrittenIndependently() {
        try (Graph a = Models.byName("vgg11").build(WeightInit.ZEROS);
             Graph b = Models.byName("vgg11").build(WeightInit.ZEROS)) {
            Tensor large = a.initializers().get("classifier.0.weight"); // 400 MB
            Tensor small = a.initializers().get("features.0.bias");
            long last = large.elementCount() - 1;
            large.set(last, 2.5f);
            large.copyFrom(new float[] {1f, -1f}, 0, 12_345_678, 2);
            small.set(3, 4f);
            assertEquals(2.5f, large.get(last));
            assertEquals(-1f, large.get(12_345_679));
            assertEquals(0f, large.get(12_345_680));
            assertEquals(4f, small.get(3));
            assertEquals(0f, b.initializers().get("classifier.0.weight").get(last));
            assertEquals(0f, b.initializers().get("features.0.bias").get(3));
        }
    }

    @Test
    void convolutionAndLinearWeightsAreHeNormal() {
        try (Graph graph = Models.byName("resnet50").build(3)) {
            Map<String, Tensor> w = graph.initializers();
            assertMoments(w.get("layer3.0.conv2.weight"), 0, Math.sqrt(2.0 / (256 * 3 * 3)));
            assertMoments(w.get("layer1.0.conv1.weight"), 0, Math.sqrt(2.0 / 64));
            assertMoments(w.get("fc.weight"), 0, Math.sqrt(2.0 / 2048));
        }
        try (Graph graph = Models.byName("mobilenet_v1").build(3)) {
            // Depthwise: the fan-in is one channel's 3x3 window.
            assertMoments(graph.initializers().get("features.13.0.weight"), 0, Math.sqrt(2.0 / 9));
        }
    }

    @Test
    void biasesAndBatchNormStatisticsAreSmallButNotTrivial() {
        try (Graph graph = Models.byName("resnet50").build(3)) {
            Map<String, Tensor> w = graph.initializers();
            assertSpread(w.get("fc.bias"), -0.1, 0.1);
            assertSpread(w.get("layer4.0.bn1.bias"), -0.1, 0.1);
            assertSpread(w.get("layer4.0.bn1.weight"), 0.5, 1.5);
            assertSpread(w.get("layer4.0.bn1.running_var"), 0.5, 2.0);
            assertMoments(w.get("layer4.0.downsample.1.running_mean"), 0, 0.1);
            // The batch-norm closing a residual branch scales down, keeping deep stacks of Adds bounded.
            assertSpread(w.get("layer4.0.bn3.weight"), 0.1, 0.5);
            assertSpread(w.get("layer4.0.downsample.1.weight"), 0.5, 1.5);
        }
        try (Graph graph = Models.byName("efficientnet_b0").build(3)) {
            assertSpread(graph.initializers().get("features.2.0.block.2.fc2.bias"), -0.1, 0.1);
        }
    }

    /** Mean within 3 standard errors, standard deviation within 5%. */
    private static void assertMoments(Tensor t, double mean, double std) {
        float[] v = t.toFloatArray();
        double sum = 0, squares = 0;
        for (float x : v) {
            sum += x;
            squares += x * x;
        }
        double m = sum / v.length;
        double s = Math.sqrt(squares / v.length - m * m);
        assertEquals(mean, m, 3 * std / Math.sqrt(v.length), "mean of " + t);
        assertEquals(std, s, 0.05 * std, "standard deviation of " + t);
    }

    /** All values in [low, high), and they cover most of it. */
    private static void assertSpread(Tensor t, double low, double high) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float x : t.toFloatArray()) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        assertTrue(min >= low && max < high, t + " has values in [" + min + ", " + max + "], outside [" + low + ", "
                + high + ")");
        double margin = (high - low) / 5;
        assertTrue(min < low + margin && max > high - margin, t + " spans only [" + min + ", " + max + "]");
    }
}
