package dev.kiln.models;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each family runs on the reference backend with seeded weights and gives usable logits. */
class ForwardPassTest {

    static Stream<ModelSpec> representatives() {
        return Models.representatives().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("representatives")
    void givesFiniteVariedLogitsOfAReasonableMagnitude(ModelSpec spec) {
        try (Graph graph = spec.build(42);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID);
             Tensor image = randomImage(1, spec.resolution(), 5);
             Tensor logits = model.run(image)) {
            assertEquals(Shape.of(1, 1000), logits.shape());
            float[] y = logits.toFloatArray();
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY, largest = 0;
            for (float v : y) {
                assertTrue(Float.isFinite(v), spec + " gave " + v);
                min = Math.min(min, v);
                max = Math.max(max, v);
                largest = Math.max(largest, Math.abs(v));
            }
            assertTrue(max - min > 1e-3 * largest, spec + ": logits all about equal, in [" + min + ", " + max + "]");
            assertTrue(largest > 1e-3 && largest < 1e4, spec + ": largest |logit| is " + largest);
        }
    }

    /** The batch is symbolic: images of a batch are computed independently. */
    @Test
    void eachImageOfABatchGetsItsOwnLogits() {
        ModelSpec spec = Models.byName("mobilenet_v1_0.25_128");
        try (Graph graph = spec.build(42);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID);
             Tensor batch = randomImage(2, 128, 9);
             Tensor both = model.run(batch)) {
            assertEquals(Shape.of(2, 1000), both.shape());
            float[] all = both.toFloatArray();
            assertTrue(!Arrays.equals(all, 0, 1000, all, 1000, 2000), "two random images gave the same logits");
            int imageSize = 3 * 128 * 128;
            for (int i = 0; i < 2; i++) {
                float[] pixels = new float[imageSize];
                batch.copyTo((long) i * imageSize, pixels, 0, imageSize);
                try (Tensor one = Tensor.of(Shape.of(1, 3, 128, 128), pixels); Tensor logits = model.run(one)) {
                    float[] alone = logits.toFloatArray();
                    for (int k = 0; k < 1000; k++) {
                        assertEquals(alone[k], all[i * 1000 + k], 1e-5f * (1 + Math.abs(alone[k])),
                                "image " + i + ", class " + k);
                    }
                }
            }
        }
    }

    private static Tensor randomImage(int batch, int resolution, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] pixels = new float[batch * 3 * resolution * resolution];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(batch, 3, resolution, resolution), pixels);
    }
}
