package dev.kiln.parity;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.ExtendedSuite;
import dev.kiln.conformance.ExpectedFallbacks;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.parity.ParityFixtures.Export;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each of the six networks, exported from PyTorch both ways, imported from ONNX and run on every
 * available backend, against PyTorch's float64 output: the largest difference at most
 * {@link RelativeDifference#TOLERANCE} of the largest output, at batch 1 and a larger batch on
 * one compiled model. The batch-norm-keeping exports run with the optimizer on (it folds the
 * batch-norms itself) and off (the batch-norm kernel runs), and both must match. Every output is
 * also held to the same bound against ONNX Runtime's on the same file and input, a second oracle
 * ({@link OnnxRuntimeOracle}) that reads the file independently of Kiln's importer. Every node must
 * run on the backend compared, but where {@link ExpectedFallbacks#NETWORKS} allows (nowhere on
 * cpu-simd, onednn and opencl): a node left to another backend fails the case.
 *
 * <p>The batches: {@link #BATCHES} (1 and 4) on every backend that is not the reference one,
 * as issues 8, 9 and 10 ask of cpu-simd, onednn and opencl; {@link #REFERENCE_BATCHES} (1, and
 * 3 in the extended run) on the reference backend, which is the slow one: batch 3 keeps an odd
 * batch size in the extended run. See {@link #batchesFor}.
 *
 * <p>Prints which backend runs at which batches, then per model, export, backend, optimizer
 * setting and batch, the relative differences (from PyTorch, from ONNX Runtime) and the import
 * time of the file: the figures the parity report quotes.
 */
class PyTorchParityTest {
    static final List<String> MODELS = List.of("vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2",
            "efficientnet_b0");
    /** The batch sizes every backend but the reference one runs at. */
    static final List<Integer> BATCHES = List.of(1, 4);
    /**
     * The batch sizes the reference backend runs at (see the class comment): batch 3 only in the
     * extended run. It was the slowest case of the suite (VGG-16 alone 40 s to 2 min on a 2-core
     * host) and adds little: the conformance tests hold every other backend to the reference
     * backend at batch 4, and this test holds those backends to PyTorch at batch 4.
     */
    static final List<Integer> REFERENCE_BATCHES = ExtendedSuite.enabled() ? List.of(1, 3) : List.of(1);

    /**
     * VGG-16 has no batch-norm, so its batch-norm-keeping export is the same file as its default
     * one, whose runs cover the optimizer on at batch 1 and the larger batch; and a batch-3 run on
     * the reference backend takes half a minute or more. Its batch-norm-keeping export runs only with the
     * optimizer off at batch 1, which keeps the suite within its few minutes.
     */
    private static final String MODEL_WITHOUT_BATCH_NORM = "vgg16";

    private static final Engine ENGINE = Engine.create();
    private static final OnnxRuntimeOracle ONNX_RUNTIME = new OnnxRuntimeOracle();
    private static ParityFixtures fixtures;

    @BeforeAll
    static void locateFixtures() {
        fixtures = ParityFixtures.locate().requireBatches(BATCHES).requireBatches(REFERENCE_BATCHES);
        System.out.println("PyTorch parity fixtures: " + fixtures.folder() + " ("
                + String.join(", ", fixtures.versions()) + ")");
        if (!ExtendedSuite.enabled()) {
            System.out.println(ExtendedSuite.leftOut("the reference backend at batch 3"));
        }
        for (Engine.BackendInfo backend : ENGINE.backends()) {
            System.out.println("  backend " + backend.id() + ": " + (backend.available()
                    ? "compared at batch " + batchesFor(backend.id()) + " for all six networks"
                    : "not compared, unavailable: " + backend.reason()));
        }
    }

    @AfterAll
    static void closeOnnxRuntime() {
        ONNX_RUNTIME.close();
    }

    /** {@link #REFERENCE_BATCHES} for the reference backend, {@link #BATCHES} for every other. */
    static List<Integer> batchesFor(String backend) {
        return backend.equals(ReferenceBackend.ID) ? REFERENCE_BATCHES : BATCHES;
    }

    static List<String> availableBackends() {
        return ENGINE.backends().stream().filter(Engine.BackendInfo::available).map(Engine.BackendInfo::id).toList();
    }

    static Stream<Arguments> exports() {
        return MODELS.stream().flatMap(model -> Stream.of(Export.values()).map(export -> Arguments.of(model, export)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("exports")
    void importedExportMatchesPyTorch(String model, Export export) throws IOException {
        List<String> backends = availableBackends();
        assertFalse(backends.isEmpty(), "no backend is available; the reference backend always should be");
        Path file = fixtures.onnx(model, export);
        long started = System.nanoTime();
        try (Graph graph = OnnxImporter.load(file)) {
            double importSeconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("parity %s %s: imported %s (%.0f MB) in %.2f s%n", model, export.fileStem,
                    file.getFileName(), Files.size(file) / 1e6, importSeconds);
            List<String> failures = new ArrayList<>();
            for (String backend : backends) {
                for (Run run : runs(model, export, batchesFor(backend))) {
                    try (CompiledModel compiled = ENGINE.compile(graph, new CompileOptions(backend, run.optimize()))) {
                        for (int batch : run.batches()) {
                            String what = String.format("%s %s backend %s optimizer %s batch %d", model,
                                    export.fileStem, backend, run.optimize() ? "on" : "off", batch);
                            failures.addAll(misplaced(what, backend, compiled, batch));
                            Comparison result = Comparison.run(fixtures, compiled, model, batch, ONNX_RUNTIME, file);
                            System.out.printf("parity %s: %s (import %.2f s, run %.2f s)%n", what,
                                    result.differences(), importSeconds, result.runSeconds());
                            if (!result.withinTolerance()) {
                                failures.add(what + ": " + result.differences());
                            }
                        }
                    }
                }
            }
            assertTrue(failures.isEmpty(), "outputs differ from PyTorch's or ONNX Runtime's by more than "
                    + RelativeDifference.TOLERANCE + " of the largest output, or nodes fell back:\n  "
                    + String.join("\n  ", failures));
        }
    }

    /**
     * One line per node of {@code compiled} at {@code batch} that ran elsewhere than on
     * {@code backend} without an allowance in {@link ExpectedFallbacks#NETWORKS}: a backend that
     * left nodes to another would otherwise pass on that backend's output.
     */
    static List<String> misplaced(String what, String backend, CompiledModel compiled, int batch) {
        return ExpectedFallbacks.NETWORKS.unexpected(backend, compiled.planForBatch(batch).placements()).stream()
                .map(line -> what + ": " + line)
                .toList();
    }

    /** One compiled model (optimizer on or off) run at these batch sizes. */
    record Run(boolean optimize, List<Integer> batches) {
    }

    /** The optimizer on for every export, and also off for those that keep their batch-norms. */
    private static List<Run> runs(String model, Export export, List<Integer> batches) {
        if (export == Export.DEFAULT) {
            return List.of(new Run(true, batches));
        }
        if (model.equals(MODEL_WITHOUT_BATCH_NORM)) {
            System.out.println("parity " + model + " " + export.fileStem + ": optimizer off at batch 1 only (the file"
                    + " is the same as the default export, which runs with the optimizer on at batch " + batches + ")");
            return List.of(new Run(false, List.of(1)));
        }
        return List.of(new Run(true, batches), new Run(false, batches));
    }
}
