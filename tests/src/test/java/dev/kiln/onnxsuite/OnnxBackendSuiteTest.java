package dev.kiln.onnxsuite;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.models.onnx.OnnxSummary;
import dev.kiln.models.onnx.OnnxTensors;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The official ONNX backend test cases, run the way ONNX's own backend test runner does: every
 * case whose ops and types Kiln supports (as {@link OnnxImporter#inspect} tells) runs on every
 * available backend, and on the reference backend also with the optimizer off, and must match
 * the expected outputs within ONNX's tolerance, {@code assert_allclose(rtol=1e-3, atol=1e-7)}.
 * Cases Kiln does not support are not generated; a summary line counts them by reason.
 */
class OnnxBackendSuiteTest {
    /** ONNX's backend test tolerances ({@code onnx/backend/test/runner}): relative 1e-3, absolute 1e-7. */
    static final double RTOL = 1e-3;
    static final double ATOL = 1e-7;

    /** Op types whose cases must run (issue 3): each needs at least one supported case. */
    static final List<String> REQUIRED_OPS = List.of("Conv", "MaxPool", "AveragePool", "BatchNormalization", "Relu",
            "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Add", "Mul", "Concat", "Flatten", "Reshape", "Gemm",
            "MatMul", "Softmax", "LRN", "GlobalAveragePool", "GlobalMaxPool", "Dropout", "Identity", "Constant");

    @TempDir
    static Path scratch;

    private static final Engine ENGINE = Engine.create();
    private static final List<OnnxTestData.Case> RUNNABLE = new ArrayList<>();
    /** Op types of the runnable cases, to check coverage. */
    private static final Map<String, Set<String>> OPS_RUN = new TreeMap<>();
    /** Reason to the cases it keeps from running. */
    private static final Map<String, List<String>> NOT_SUPPORTED = new TreeMap<>();
    private static int caseCount;

    @BeforeAll
    static void readTheSuite() {
        Path root = OnnxTestData.root();
        for (Path folder : OnnxTestData.caseFolders(root)) {
            for (OnnxTestData.Case c : OnnxTestData.dataSets(root, folder, scratch)) {
                caseCount++;
                OnnxSummary summary = inspect(c);
                if (summary.isSupported()) {
                    RUNNABLE.add(c);
                    summary.opCounts().keySet().forEach(op -> OPS_RUN.computeIfAbsent(op, k -> new TreeSet<>())
                            .add(c.name()));
                } else {
                    summary.unsupportedOps().forEach(reason -> NOT_SUPPORTED.computeIfAbsent(reason,
                            k -> new ArrayList<>()).add(c.name()));
                }
            }
        }
        int notSupported = caseCount - RUNNABLE.size();
        String reasons = NOT_SUPPORTED.entrySet().stream()
                .sorted((a, b) -> b.getValue().size() - a.getValue().size())
                .map(e -> e.getKey() + " x " + e.getValue().size())
                .collect(Collectors.joining(", "));
        System.out.println("ONNX backend suite (" + root + "): " + RUNNABLE.size() + " cases run, " + notSupported
                + " not supported: " + reasons);
    }

    private static OnnxSummary inspect(OnnxTestData.Case c) {
        try {
            return OnnxImporter.inspect(c.model());
        } catch (RuntimeException e) {
            throw new AssertionError(c.name() + ": a valid ONNX file could not be inspected: " + e.getMessage(), e);
        }
    }

    /** Backend configurations: every available backend optimized, and the reference backend as written. */
    private static List<CompileOptions> configurations() {
        List<CompileOptions> options = new ArrayList<>();
        for (Engine.BackendInfo b : ENGINE.backends()) {
            if (b.available()) {
                options.add(new CompileOptions(b.id(), true));
            }
        }
        options.add(new CompileOptions(ReferenceBackend.ID, false));
        return options;
    }

    @TestFactory
    Stream<DynamicNode> everySupportedCaseMatchesOnEveryBackend() {
        List<CompileOptions> configurations = configurations();
        return RUNNABLE.stream().map(c -> DynamicContainer.dynamicContainer(c.name()
                        + (c.boundInputs().isEmpty() ? "" : " [INT64 inputs " + c.boundInputs() + " bound as constants]"),
                configurations.stream().map(o -> DynamicTest.dynamicTest(
                        o.backend() + (o.optimize() ? "" : " (optimizer off)"), () -> run(c, o)))));
    }

    @Test
    void everyRequiredOpHasCasesThatRun() {
        List<String> missing = REQUIRED_OPS.stream().filter(op -> !OPS_RUN.containsKey(op)).toList();
        assertTrue(missing.isEmpty(), () -> "no runnable ONNX backend case for " + missing + "; reasons cases were "
                + "not supported: " + NOT_SUPPORTED.keySet());
    }

    @Test
    void theSuiteIsTheExpectedOne() {
        // ONNX 1.12's data: a much smaller count means a broken install or the wrong folder.
        assertTrue(caseCount > 1000, () -> "only " + caseCount + " cases found under " + OnnxTestData.root());
        assertTrue(RUNNABLE.size() > 150, () -> "only " + RUNNABLE.size() + " cases are supported");
    }

    private static void run(OnnxTestData.Case c, CompileOptions options) {
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Map<String, Tensor> outputs = new HashMap<>();
        try (Graph graph = OnnxImporter.load(c.model());
             CompiledModel model = ENGINE.compile(graph, options)) {
            for (int i = 0; i < c.inputs().size(); i++) {
                inputs.put(c.inputNames().get(i), OnnxTensors.read(c.inputs().get(i)));
            }
            outputs.putAll(model.run(inputs));
            for (int i = 0; i < c.outputs().size(); i++) {
                String name = c.outputNames().get(i);
                try (Tensor expected = OnnxTensors.read(c.outputs().get(i))) {
                    Tensor actual = outputs.get(name);
                    assertEquals(expected.shape(), actual.shape(), () -> "shape of output '" + name + "'");
                    compare(name, expected.toFloatArray(), actual.toFloatArray());
                }
            }
        } finally {
            inputs.values().forEach(Tensor::close);
            outputs.values().forEach(Tensor::close);
        }
    }

    /** numpy.testing.assert_allclose: |actual - expected| <= atol + rtol * |expected|, NaN equal to NaN. */
    static void compare(String output, float[] expected, float[] actual) {
        int bad = 0;
        int first = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (Double.isNaN(e) && Double.isNaN(a) || e == a) {
                continue;
            }
            double diff = Math.abs(a - e);
            if (!(diff <= ATOL + RTOL * Math.abs(e))) {
                bad++;
                if (first < 0) {
                    first = i;
                }
                worst = Double.isNaN(diff) ? Double.NaN : Math.max(worst, diff);
            }
        }
        if (bad > 0) {
            int at = first;
            fail(bad + " of " + expected.length + " values of output '" + output + "' differ beyond rtol " + RTOL
                    + " atol " + ATOL + "; first at index " + at + ": expected " + expected[at] + ", got "
                    + actual[at] + "; largest difference " + worst);
        }
    }
}
