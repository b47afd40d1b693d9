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
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A provided op no built-in backend claims, inside a residual block on every available backend:
 * each backend refuses it (without failing), it runs on the reference backend with its provider's
 * kernel, and everything around it, across the partition boundaries it makes, matches the
 * reference backend value by value.
 */
class ProvidedOpOnEveryBackendTest {
    @Test
    void everyBackendRunsAroundAProvidedOpItDoesNotClaim() {
        Shape shape = Shape.of(2, 20, 7, 7); // channels off the vector widths, so blocked layouts pad
        GraphBuilder b = new GraphBuilder("around-softsign").input("x", shape);
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of("a"));
        b.node("softsign", new ProvidedOp(new ProvidedOpReductionTest.Softsign(), OpAttributes.empty()),
                List.of("a"), List.of("s"));
        b.node("add", Binary.ADD, List.of("s", "a"), List.of("r"));
        b.node("sigmoid", new Activation(ActivationFunction.SIGMOID), List.of("r"), List.of("y"));
        Engine engine = Engine.create();
        List<String> backends = engine.backends().stream().filter(Engine.BackendInfo::available)
                .map(Engine.BackendInfo::id).filter(id -> !id.equals(ReferenceBackend.ID)).toList();
        assertFalse(backends.isEmpty(), "no backend besides the reference one is available");
        try (Graph graph = b.output("y").build();
             Tensor x = RandomTensors.uniform(shape, 9, "x", -3, 3)) {
            Verification v = new LayerwiseVerifier(engine).verify(graph, Map.of("x", x), backends);
            for (BackendVerdict verdict : v.verdicts()) {
                assertTrue(verdict.passed(), () -> verdict.backend() + ": " + verdict.problems() + " "
                        + verdict.firstDivergent());
                assertEquals(List.of("softsign"), verdict.fallbackNodes(), verdict.backend());
                assertEquals(List.of(), verdict.notVerifiable(), verdict.backend());
            }
            System.out.println("a provided op ran on the reference backend between nodes of " + backends);
        }
    }
}
