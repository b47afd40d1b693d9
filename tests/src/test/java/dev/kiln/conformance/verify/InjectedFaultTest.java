package dev.kiln.conformance.verify;

import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.models.Models;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel made wrong in one node of MobileNet v2 (its output off by 1%, far above the tolerance
 * and far below what would be obvious in the final scores): verification names exactly that
 * node as the first divergent one, and its inputs as still in tolerance. The same wrapper with
 * no fault passes, so the verdict comes from the fault and not from the wrapping.
 */
class InjectedFaultTest {
    private static Graph graph;
    private static OptimizationReport optimized;
    private static Map<String, Tensor> inputs;

    @BeforeAll
    static void build() {
        graph = Models.byName("mobilenet_v2").build(7);
        optimized = LayerwiseVerifier.optimize(graph);
        inputs = Map.of(graph.inputs().getFirst().name(), RandomTensors.uniform(
                graph.inputShapesForBatch(1).get(graph.inputs().getFirst().name()), 7, "x", -2, 2));
    }

    @AfterAll
    static void close() {
        inputs.values().forEach(Tensor::close);
        optimized.graph().close();
        graph.close();
    }

    private static BackendVerdict verify(String faultyNode, float error) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(),
                new NodeFaultBackend("faulty", faultyNode, error)));
        Verification v = new LayerwiseVerifier(engine).verify(graph, inputs, List.of("faulty"));
        assertEquals(1, v.verdicts().size());
        return v.verdicts().getFirst();
    }

    /** A convolution with a residual input: it reads two values computed by earlier nodes. */
    private static Node residualConvolution() {
        return optimized.graph().nodes().stream()
                .filter(n -> n.op().type().equals("FusedConv") && n.inputs().size() > 3 && !n.input(3).isEmpty())
                .skip(2).findFirst().orElseThrow();
    }

    @Test
    void withoutAFaultTheWrappedReferencePasses() {
        BackendVerdict v = verify(residualConvolution().name(), 0);
        assertTrue(v.passed(), () -> v.problems() + " " + v.firstDivergent());
        assertNull(v.firstDivergent());
        assertEquals(List.of(), v.fallbackNodes());
        assertEquals(optimized.graph().nodes().size(), v.nodesOnBackend());
        assertEquals(0, v.maxRelError(), 1e-6);
    }

    @Test
    void namesTheFaultyNodeAndItsInputsInTolerance() {
        Node faulty = residualConvolution();
        BackendVerdict v = verify(faulty.name(), 0.01f);
        assertFalse(v.passed());
        assertNotNull(v.firstDivergent());
        assertEquals(faulty.name(), v.firstDivergent().node());
        assertEquals(0.01, v.firstDivergent().relativeError(), 1e-3);
        Set<String> producers = faulty.inputs().stream().map(in -> optimized.graph().producer(in))
                .filter(Objects::nonNull).map(Node::name).collect(Collectors.toSet());
        assertEquals(2, producers.size(), "the block's input and the projection's output");
        assertEquals(producers, v.inputsInTolerance().stream().map(ValueCheck::node).collect(Collectors.toSet()));
        assertTrue(v.inputsInTolerance().stream().allMatch(ValueCheck::passed));
        // Every value computed before it is in tolerance; the fault propagates to what reads it.
        List<ValueCheck> checks = v.checks();
        int at = checks.indexOf(v.firstDivergent());
        assertTrue(checks.subList(0, at).stream().allMatch(ValueCheck::passed));
        assertFalse(checks.getLast().passed());
    }

    @Test
    void aFaultInTheFirstOrTheLastNodeIsNamedToo() {
        List<Node> nodes = optimized.graph().nodes();
        for (Node n : List.of(nodes.getFirst(), nodes.getLast())) {
            BackendVerdict v = verify(n.name(), 0.01f);
            assertFalse(v.passed(), n.name());
            assertEquals(n.name(), v.firstDivergent().node());
        }
    }

    /** A fault only where the value stays inside its partition: no captured value shows it, the model's own run does. */
    @Test
    void aFaultHiddenInsideAPartitionFailsThroughTheModelsOwnRun() {
        Node faulty = residualConvolution();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(),
                new NodeFaultBackend("hidden", faulty.name(), 0.01f, true)));
        BackendVerdict v = new LayerwiseVerifier(engine).verify(graph, inputs, List.of("hidden")).verdicts().getFirst();
        assertFalse(v.passed());
        assertNull(v.firstDivergent(), "every captured value is right");
        assertEquals(1, v.problems().size(), v.problems().toString());
        assertTrue(v.problems().getFirst().contains("model's own run"), v.problems().toString());
    }
}
