package dev.kiln.optimize;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standard optimizer on one network of each family, as the model builders make them: what
 * must be gone afterwards, and that the logits do not change on the reference backend.
 */
class ModelOptimizationTest {
    private static final long SEED = 2024;
    private static final double TOLERANCE = 1e-5;
    /** Networks whose every residual Add must end up inside a convolution. */
    private static final Set<String> RESIDUAL_FAMILIES = Set.of("resnet50", "mobilenet_v2", "efficientnet_b0");

    static List<ModelSpec> models() {
        return Models.representatives();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void leavesNoBatchNormNoActivationAfterAConvNoUnfusedResidualAndNoNoOp(ModelSpec spec) {
        try (Graph graph = spec.build(SEED)) {
            OptimizationReport report = new Optimizer().optimize(graph);
            try (Graph optimized = report.graph()) {
                System.out.println(spec.name() + ": " + report.summary());
                FusionChecks.assertFused(optimized, report.opsAfter());
                if (RESIDUAL_FAMILIES.contains(spec.name())) {
                    FusionChecks.assertResidualAddsFused(graph, optimized);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void computesTheSameLogitsAtBatchOne(ModelSpec spec) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        try (Graph graph = spec.build(SEED);
             Tensor image = randomImage(spec.inputShape().withDim(0, 1))) {
            float[] expected = logits(engine, graph, image);
            try (Graph optimized = new Optimizer().optimize(graph).graph()) {
                float[] actual = logits(engine, optimized, image);
                assertClose(expected, actual);
            }
        }
    }

    private static float[] logits(Engine engine, Graph graph, Tensor image) {
        try (CompiledModel model = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, false));
             Tensor out = model.run(image)) {
            return out.toFloatArray();
        }
    }

    private static Tensor randomImage(Shape shape) {
        Random random = new Random(SEED);
        float[] v = new float[shape.elementCountInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(shape, v);
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "number of logits");
        double largest = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i]));
            double diff = Math.abs((double) expected[i] - actual[i]);
            worst = Double.isNaN(diff) || diff > worst ? diff : worst;
        }
        assertTrue(largest > 0, "the logits are all zero: the comparison would prove nothing");
        System.out.printf("largest logit %.6g, largest difference %.3g (%.3g relative)%n", largest, worst,
                worst / largest);
        assertTrue(worst <= TOLERANCE * largest, "largest difference " + worst + " exceeds " + TOLERANCE + " x "
                + largest);
    }
}
