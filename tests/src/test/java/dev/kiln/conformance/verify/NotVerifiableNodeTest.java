package dev.kiln.conformance.verify;

import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.OpaqueOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node with no reference kernel (an op no provider knows, kept opaque) is marked not
 * verifiable, and what follows it is checked against the reference backend fed with the
 * backend's own output of it: a fault after it is still named, and without one the backend passes
 * whatever its opaque node computes (the reference cannot judge that).
 */
class NotVerifiableNodeTest {
    private static final String TRIPLE = "com.vendor.Triple";

    /** x -> Relu (a) -> com.vendor.Triple (t) -> Sigmoid (s) -> Add(s, a) -> y. */
    private static Graph graph() {
        Shape shape = Shape.of(1, 4, 5, 5);
        GraphBuilder b = new GraphBuilder("opaque-middle").input("x", shape);
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of("a"));
        b.node("triple", new ProvidedOp(new OpaqueOp("com.vendor", "Triple", 1, List.of(shape)), OpAttributes.empty()),
                List.of("a"), List.of("t"));
        b.node("sigmoid", new Activation(ActivationFunction.SIGMOID), List.of("t"), List.of("s"));
        b.node("add", Binary.ADD, List.of("s", "a"), List.of("y"));
        return b.output("y").build();
    }

    private static BackendVerdict verify(Backend underTest, String id) {
        List<Backend> backends = new ArrayList<>(List.of(new ReferenceBackend(),
                new OpaqueOpBackend("claims-triple", TRIPLE, x -> 3 * x)));
        backends.add(underTest);
        try (Graph g = graph();
             Tensor x = RandomTensors.uniform(Shape.of(1, 4, 5, 5), 3, "x", -2, 2)) {
            Verification v = new LayerwiseVerifier(Engine.withBackends(backends)).verify(g, Map.of("x", x),
                    List.of(id));
            return v.verdicts().getFirst();
        }
    }

    @Test
    void theOpaqueNodeIsNotVerifiableAndWhatFollowsItPasses() {
        BackendVerdict v = verify(new NodeFaultBackend("faulty", "sigmoid", 0), "faulty");
        assertTrue(v.passed(), () -> v.problems() + " " + v.firstDivergent());
        assertEquals(List.of("triple"), v.notVerifiable());
        assertEquals(List.of("triple"), v.fallbackNodes(), "the opaque node ran where it is claimed");
        List<String> checked = v.checks().stream().map(ValueCheck::node).toList();
        assertEquals(List.of("relu", "sigmoid", "add"), checked);
    }

    @Test
    void aFaultAfterTheOpaqueNodeIsNamed() {
        BackendVerdict v = verify(new NodeFaultBackend("faulty", "sigmoid", 0.01f), "faulty");
        assertFalse(v.passed());
        assertNotNull(v.firstDivergent());
        assertEquals("sigmoid", v.firstDivergent().node());
        assertEquals(List.of("triple"), v.notVerifiable());
    }

    @Test
    void theBackendThatClaimsTheOpaqueNodeIsVerifiedOnTheRest() {
        BackendVerdict v = verify(new OpaqueOpBackend("claims-too", TRIPLE, x -> 3 * x), "claims-too");
        assertTrue(v.passed(), () -> v.problems() + " " + v.firstDivergent());
        assertEquals(1, v.nodesOnBackend());
        assertEquals(List.of("triple"), v.notVerifiable());
    }
}
