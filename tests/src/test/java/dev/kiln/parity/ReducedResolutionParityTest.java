package dev.kiln.parity;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.ModelCases;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.parity.ParityFixtures.Export;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The variants the six networks of {@link PyTorchParityTest} do not cover (ResNet-18 and -34,
 * VGG-11, -13 and -19 with and without batch-norm, EfficientNet-B1 to B3) against PyTorch's float64
 * output at a reduced resolution ({@code parity/export_reduced.py}: 64x64, batches 1 and 2): they
 * add no operator, only other depths, widths and stage counts, so a small input checks what is
 * theirs at a few percent of the work. Each compiled model runs at both batch sizes, but on the
 * reference backend at batch 1 only ({@link #batchesFor}), every node on the backend under test:
 * <ul>
 *   <li>the default export, imported, on every available backend, within
 *       {@link RelativeDifference#TOLERANCE} of PyTorch's output and of ONNX Runtime's on the same
 *       file ({@link OnnxRuntimeOracle});
 *   <li>Kiln's builder, at the export's resolution, with every weight taken by its state_dict name
 *       from the batch-norm-keeping export, within the same bound of PyTorch's output: the builders
 *       describe torchvision's networks (as {@link BuilderMatchesExportTest} checks for the six).
 *       That is a question of structure, which one backend answers: the reference one, the oracle
 *       of the others (the import above runs these networks on all of them). Not for the VGGs:
 *       their builder takes 224x224 only (torchvision's adaptive pool is the identity there and
 *       omitted), and their export folds that pool into the first fully connected layer, so their
 *       names but not their shapes are torchvision's.
 * </ul>
 * Prints per model, backend and batch the relative differences and run times: the figures the
 * parity report quotes.
 */
class ReducedResolutionParityTest {
    static final List<String> MODELS = List.of("resnet18", "resnet34", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
            "vgg19", "vgg19_bn", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3");
    /** Those whose builders are compared with their exports (see the class comment for the VGGs). */
    static final List<String> BUILT = List.of("resnet18", "resnet34", "efficientnet_b1", "efficientnet_b2",
            "efficientnet_b3");
    /** The batch sizes {@code parity/export_reduced.py} writes. */
    static final List<Integer> BATCHES = List.of(1, 2);
    /**
     * The reference backend is the slow one (its batch-2 runs of the eleven networks took longer than
     * all the other backends' runs at both batch sizes together) and the oracle of the others; the
     * conformance tests hold the other backends to it at batch 4, and these hold them to PyTorch.
     */
    static final List<Integer> REFERENCE_BATCHES = List.of(1);

    private static final Engine ENGINE = Engine.create();
    private static final OnnxRuntimeOracle ONNX_RUNTIME = new OnnxRuntimeOracle();
    private static ParityFixtures fixtures;

    @BeforeAll
    static void locateFixtures() {
        fixtures = ParityFixtures.locate().reduced();
        System.out.println("reduced-resolution parity fixtures: " + fixtures.folder() + "; backends "
                + PyTorchParityTest.availableBackends() + " at batch " + BATCHES + ", the reference one at batch "
                + REFERENCE_BATCHES);
    }

    @AfterAll
    static void closeOnnxRuntime() {
        ONNX_RUNTIME.close();
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("MODELS")
    void importedExportMatchesPyTorchAndOnnxRuntime(String model) throws IOException {
        Path file = fixtures.onnx(model, Export.DEFAULT);
        try (Graph graph = OnnxImporter.load(file)) {
            List<String> failures = new ArrayList<>();
            for (String backend : PyTorchParityTest.availableBackends()) {
                try (CompiledModel compiled = ENGINE.compile(graph, backend)) {
                    String where = model + " export on backend " + backend;
                    for (int batch : batchesFor(backend)) {
                        failures.addAll(PyTorchParityTest.misplaced(where + " batch " + batch, backend, compiled, batch));
                        Comparison result = Comparison.run(fixtures, compiled, model, batch, ONNX_RUNTIME, file);
                        report(where + " batch " + batch, result, failures);
                    }
                }
            }
            assertTrue(failures.isEmpty(), "the export of " + model + " on Kiln differs from PyTorch or ONNX Runtime"
                    + " by more than " + RelativeDifference.TOLERANCE + " of the largest output, or ran elsewhere:\n  "
                    + String.join("\n  ", failures));
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("BUILT")
    void builderWithExportedWeightsMatchesPyTorch(String model) throws IOException {
        try (Graph exported = OnnxImporter.load(fixtures.onnx(model, Export.KEEP_BN));
             Graph built = builtAtExportResolution(model, exported, exported.initializers())) {
            Set<String> taken = built.initializers().keySet();
            Set<String> learnedButUnused = new TreeSet<>();
            exported.initializers().forEach((name, tensor) -> {
                if (!taken.contains(name) && tensor.shape().rank() > 0) {
                    learnedButUnused.add(name);
                }
            });
            assertEquals(Set.of(), learnedButUnused, "tensors of PyTorch's network that the builder has no place"
                    + " for");

            List<String> failures = new ArrayList<>();
            try (CompiledModel compiled = ENGINE.compile(built, ReferenceBackend.ID)) {
                String where = model + " builder with exported weights, backend " + ReferenceBackend.ID;
                for (int batch : batchesFor(ReferenceBackend.ID)) {
                    failures.addAll(PyTorchParityTest.misplaced(where + " batch " + batch, ReferenceBackend.ID, compiled,
                            batch));
                    report(where + " batch " + batch, Comparison.run(fixtures, compiled, model, batch), failures);
                }
            }
            assertTrue(failures.isEmpty(), "the builder's " + model + " differs from PyTorch by more than "
                    + RelativeDifference.TOLERANCE + " of the largest output, or ran elsewhere:\n  "
                    + String.join("\n  ", failures));
        }
    }

    /**
     * The comparison is sharp enough to matter in the family whose logits depended least on their
     * input (see {@code open_squeeze_excitation_gates} in {@code parity/export_reduced.py}): one
     * depthwise convolution's weights off by 1%, in EfficientNet-B1's builder otherwise given
     * PyTorch's weights, is caught (it moves the logits by about 3e-3 of their largest value).
     */
    @Test
    void oneLayerOffByOnePercentIsCaught() throws IOException {
        String model = "efficientnet_b1";
        String perturbed = "features.4.1.block.1.0.weight";
        try (Graph exported = OnnxImporter.load(fixtures.onnx(model, Export.KEEP_BN));
             Tensor scaled = BuilderMatchesExportTest.onePercentOff(exported.initializers().get(perturbed))) {
            Map<String, Tensor> weights = new HashMap<>(exported.initializers());
            weights.put(perturbed, scaled);
            try (Graph built = builtAtExportResolution(model, exported, weights);
                 CompiledModel compiled = ENGINE.compile(built, ReferenceBackend.ID)) {
                Comparison result = Comparison.run(fixtures, compiled, model, 1);
                System.out.printf("reduced parity %s builder with %s scaled by 1.01: %s%n", model, perturbed,
                        result.differences());
                assertFalse(result.withinTolerance(), "a 1% error in " + perturbed + " went unnoticed: "
                        + result.differences());
            }
        }
    }

    /** The builder's graph with (copies of) these weights, at the resolution of the export. */
    private static Graph builtAtExportResolution(String model, Graph exported, Map<String, Tensor> weights) {
        int resolution = exported.inputs().getFirst().shape().dim(2);
        Graph declared = Models.byName(model).build(WeightInit.fromTensors(weights));
        Graph resized = ModelCases.withResolution(declared, resolution);
        if (resized == null) {
            declared.close();
        }
        assertNotNull(resized, model + "'s builder does not accept the export's " + resolution + "x" + resolution);
        return resized; // shares the declared graph's weights: closing it frees them
    }

    static List<Integer> batchesFor(String backend) {
        return backend.equals(ReferenceBackend.ID) ? REFERENCE_BATCHES : BATCHES;
    }

    private static void report(String what, Comparison result, List<String> failures) {
        System.out.printf("reduced parity %s: %s (run %.3f s)%n", what, result.differences(), result.runSeconds());
        if (!result.withinTolerance()) {
            failures.add(what + ": " + result.differences());
        }
    }
}
