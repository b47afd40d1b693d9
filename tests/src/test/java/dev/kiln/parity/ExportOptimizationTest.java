package dev.kiln.parity;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.optimize.FusionChecks;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optimizer on PyTorch's exports that keep their BatchNormalization nodes, as users bring
 * them: what our builders' graphs lose (see {@code ModelOptimizationTest}) these lose too, in
 * the exporter's spelling (ReLU6 as Clip with constant inputs, SiLU as Sigmoid and Mul).
 * VGG-16 has no batch-norm and its logits before and after are compared in
 * {@link PyTorchParityTest} (optimizer on and off), so it is left out of the slow comparison here.
 */
class ExportOptimizationTest {
    private static final Set<String> RESIDUAL = Set.of("resnet50", "mobilenet_v2", "efficientnet_b0");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0"})
    void foldsEveryBatchNormAndFusesEveryActivationAndResidualAdd(String model) {
        ParityFixtures fixtures = ParityFixtures.locate();
        try (Graph graph = OnnxImporter.load(fixtures.onnx(model, ParityFixtures.Export.KEEP_BN))) {
            OptimizationReport report = new Optimizer().optimize(graph);
            try (Graph optimized = report.graph()) {
                System.out.println(model + " (keep_bn export): " + report.summary());
                FusionChecks.assertFused(optimized, report.opsAfter());
                if (RESIDUAL.contains(model)) {
                    FusionChecks.assertResidualAddsFused(graph, optimized);
                }
                if (model.equals("efficientnet_b0")) {
                    assertEquals(16, report.opsAfter().getOrDefault("SqueezeExcitation", 0), report.opsAfter().toString());
                    assertFalse(report.opsAfter().containsKey("Sigmoid"), "SiLU and SE gates fused: " + report.opsAfter());
                }
            }
        }
    }

    /** Each pass keeps the numbers: the export's logits before and after optimization, on the reference backend. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0"})
    void optimizationKeepsTheLogits(String model) throws IOException {
        ParityFixtures fixtures = ParityFixtures.locate();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        try (Graph graph = OnnxImporter.load(fixtures.onnx(model, ParityFixtures.Export.KEEP_BN));
             Tensor image = Npy.read(fixtures.input(model, 1));
             CompiledModel asWritten = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, false));
             CompiledModel optimized = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, true));
             Tensor before = asWritten.run(image);
             Tensor after = optimized.run(image)) {
            double difference = RelativeDifference.of(after, before);
            System.out.printf("%s (keep_bn export): optimized logits differ by %.2e of the largest%n", model,
                    difference);
            assertTrue(difference <= 1e-5, model + ": " + difference);
        }
    }
}
