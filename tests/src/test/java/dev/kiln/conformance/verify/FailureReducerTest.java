package dev.kiln.conformance.verify;

import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.models.Models;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --reduce} on a fault injected into one node of MobileNet v2: the failure shrinks to
 * that node alone, which still fails, also after a round trip through ONNX and {@code .npy}
 * files (what {@code kiln verify --reduce} writes); a backend without the fault has nothing to reduce.
 */
class FailureReducerTest {
    private static Graph graph;
    private static OptimizationReport optimized;
    private static Map<String, Tensor> inputs;

    @TempDir
    Path dir;

    @BeforeAll
    static void build() {
        graph = Models.byName("mobilenet_v2").build(11);
        optimized = LayerwiseVerifier.optimize(graph);
        String x = graph.inputs().getFirst().name();
        inputs = Map.of(x, RandomTensors.uniform(graph.inputShapesForBatch(1).get(x), 11, "x", -2, 2));
    }

    @AfterAll
    static void close() {
        inputs.values().forEach(Tensor::close);
        optimized.graph().close();
        graph.close();
    }

    private static Engine engine(String faultyNode, float error) {
        return Engine.withBackends(List.of(new ReferenceBackend(), new NodeFaultBackend("faulty", faultyNode, error)));
    }

    @Test
    void aFaultyNodeShrinksToThatNodeAloneAndStillFailsFromFiles() throws Exception {
        Node faulty = optimized.graph().nodes().stream()
                .filter(n -> n.op().type().equals("FusedConv") && n.inputs().size() > 3 && !n.input(3).isEmpty())
                .skip(1).findFirst().orElseThrow();
        Engine engine = engine(faulty.name(), 0.01f);
        try (Reduction r = new FailureReducer(engine).reduce(graph, inputs, "faulty").orElseThrow()) {
            assertEquals(List.of(faulty), r.graph().nodes());
            assertEquals(2, r.inputs().size(), "the block's input and the projection's output: " + r.inputs().keySet());
            assertFalse(r.verdict().passed());
            assertEquals(faulty.name(), r.verdict().firstDivergent().node());

            Path model = dir.resolve("model.onnx");
            OnnxExporter.write(r.graph(), model);
            Map<String, Tensor> fromFiles = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : r.inputs().entrySet()) {
                Path npy = dir.resolve(fromFiles.size() + ".npy");
                Npy.write(npy, e.getValue());
                fromFiles.put(e.getKey(), Npy.read(npy));
            }
            try (Graph imported = OnnxImporter.load(model)) {
                BackendVerdict again = new LayerwiseVerifier(engine).verify(imported, fromFiles, List.of("faulty"))
                        .verdicts().getFirst();
                assertFalse(again.passed());
                assertEquals(faulty.name(), again.firstDivergent().node());
            } finally {
                fromFiles.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void aBackendThatPassesHasNothingToReduce() {
        Optional<Reduction> r = new FailureReducer(engine("no-such-node", 0.01f)).reduce(graph, inputs, "faulty");
        assertTrue(r.isEmpty());
    }
}
