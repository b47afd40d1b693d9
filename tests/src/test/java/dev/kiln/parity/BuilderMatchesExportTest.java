package dev.kiln.parity;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.parity.ParityFixtures.Export;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln's model builders and torchvision describe the same networks: the builder's graph, with
 * every weight taken by its state_dict name from PyTorch's batch-norm-keeping export (whose
 * initializers keep those names, since the exporter folds no constants), gives PyTorch's output
 * within {@link RelativeDifference#TOLERANCE} on every available backend, at the batch sizes
 * {@link PyTorchParityTest#batchesFor} gives it, with every node on that backend (as
 * {@link PyTorchParityTest} requires). Any difference in
 * structure (a missing layer, a wrong stride, padding, epsilon or activation, a shortcut in the
 * wrong place) would show as a missing or misshapen weight or as a different output.
 *
 * <p>MobileNet v1 is not in torchvision; the export script writes it with the builder's names.
 */
class BuilderMatchesExportTest {
    private static final Engine ENGINE = Engine.create();
    private static ParityFixtures fixtures;

    @BeforeAll
    static void locateFixtures() {
        fixtures = ParityFixtures.locate().requireBatches(PyTorchParityTest.BATCHES)
                .requireBatches(PyTorchParityTest.REFERENCE_BATCHES);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenet_v2", "efficientnet_b0", "mobilenet_v1", "googlenet"})
    void builderWithExportedWeightsMatchesPyTorch(String model) throws IOException {
        try (Graph exported = OnnxImporter.load(fixtures.onnx(model, Export.KEEP_BN));
             Graph built = Models.byName(model).build(WeightInit.fromTensors(exported.initializers()))) {
            Set<String> taken = built.initializers().keySet();
            System.out.println("builder vs export " + model + ": took " + taken.size() + " weights by name from "
                    + exported.initializers().size() + " initializers, e.g. " + examples(built));
            Set<String> learnedButUnused = new TreeSet<>();
            exported.initializers().forEach((name, tensor) -> {
                if (!taken.contains(name) && tensor.shape().rank() > 0) {
                    learnedButUnused.add(name);
                }
            });
            assertEquals(Set.of(), learnedButUnused,
                    "tensors of PyTorch's network that the builder has no place for");

            List<String> failures = new ArrayList<>();
            for (String backend : PyTorchParityTest.availableBackends()) {
                try (CompiledModel compiled = ENGINE.compile(built, backend)) {
                    for (int batch : PyTorchParityTest.batchesFor(backend)) {
                        String what = "builder vs export " + model + " with exported weights, backend " + backend
                                + " batch " + batch;
                        failures.addAll(PyTorchParityTest.misplaced(what, backend, compiled, batch));
                        Comparison result = Comparison.run(fixtures, compiled, model, batch);
                        System.out.printf("%s: relative difference %.2e (run %.2f s)%n", what,
                                result.relativeDifference(), result.runSeconds());
                        if (!result.withinTolerance()) {
                            failures.add(what + ": relative difference " + result.relativeDifference());
                        }
                    }
                }
            }
            assertTrue(failures.isEmpty(), "the builder's graph differs from PyTorch by more than "
                    + RelativeDifference.TOLERANCE + " of the largest output, or nodes fell back:\n  "
                    + String.join("\n  ", failures));
        }
    }

    /**
     * The comparison is sharp enough to matter: one pointwise convolution's weights off by 1%,
     * in a network otherwise identical to PyTorch's, is caught.
     */
    @Test
    void oneLayerOffByOnePercentIsCaught() throws IOException {
        String model = "mobilenet_v1";
        String perturbed = "features.7.3.weight";
        try (Graph exported = OnnxImporter.load(fixtures.onnx(model, Export.KEEP_BN));
             Tensor scaled = onePercentOff(exported.initializers().get(perturbed))) {
            Map<String, Tensor> weights = new HashMap<>(exported.initializers());
            weights.put(perturbed, scaled);
            try (Graph built = Models.byName(model).build(WeightInit.fromTensors(weights));
                 CompiledModel compiled = ENGINE.compile(built, ReferenceBackend.ID)) {
                Comparison result = Comparison.run(fixtures, compiled, model, 1);
                System.out.printf("builder vs export %s with %s scaled by 1.01: relative difference %.2e%n", model,
                        perturbed, result.relativeDifference());
                assertFalse(result.withinTolerance(), "a 1% error in " + perturbed + " went unnoticed: relative "
                        + "difference " + result.relativeDifference());
            }
        }
    }

    /** A copy of {@code weight} with every value 1% larger: one layer wrong by a little. */
    static Tensor onePercentOff(Tensor weight) {
        Tensor scaled = weight.copy();
        float[] values = scaled.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            values[i] *= 1.01f;
        }
        scaled.copyFrom(values);
        return scaled;
    }

    /** One weight name of each kind, with its shape, to show that they are state_dict keys. */
    private static String examples(Graph graph) {
        List<String> shown = new ArrayList<>();
        for (String suffix : List.of(".weight", ".bias", ".running_mean", ".running_var")) {
            graph.initializers().entrySet().stream()
                    .filter(e -> e.getKey().endsWith(suffix))
                    .findFirst()
                    .ifPresent(e -> shown.add(e.getKey() + " " + e.getValue().shape()));
        }
        return String.join(", ", shown);
    }
}
