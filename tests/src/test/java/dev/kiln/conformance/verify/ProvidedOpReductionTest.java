package dev.kiln.conformance.verify;

import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.OpaqueOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.OpProvider;
import dev.kiln.spi.OpRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln verify --reduce} on graphs with ops from outside Kiln: a fault in a provided op's
 * backend kernel is reduced to that node, written to ONNX with its domain, and the file imports as
 * the same op and still fails; a fault after an opaque node is reduced to the node and its
 * ancestors (the node alone would need the opaque node's value from the reference backend), and
 * the written file imports again with the opaque node, without any provider.
 */
class ProvidedOpReductionTest {
    private static final Shape SHAPE = Shape.of(1, 3, 4, 4);

    @TempDir
    Path dir;

    /** y = x / (1 + |x|), from a custom domain, with its reference kernel. */
    static final class Softsign implements OpProvider {
        @Override
        public String domain() {
            return "com.example.test";
        }

        @Override
        public String name() {
            return "Softsign";
        }

        @Override
        public List<Shape> inferShapes(List<Shape> inputs, OpAttributes attributes) {
            return List.of(inputs.getFirst());
        }

        @Override
        public ReferenceKernel referenceKernel(BoundNode node) {
            int count = node.outputShape().elementCountInt();
            return (in, out) -> {
                for (int i = 0; i < count; i++) {
                    out[0][i] = in[0][i] / (1 + Math.abs(in[0][i]));
                }
            };
        }
    }

    private static final Softsign SOFTSIGN = new Softsign();

    /** x -> Relu (a) -> middle (m) -> Sigmoid (y). */
    private static Graph graph(Op middle) {
        GraphBuilder b = new GraphBuilder("middle").input("x", SHAPE);
        b.node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of("a"));
        b.node("middle", middle, List.of("a"), List.of("m"));
        b.node("sigmoid", new Activation(ActivationFunction.SIGMOID), List.of("m"), List.of("y"));
        return b.output("y").build();
    }

    private static Optional<Reduction> reduce(Graph graph, List<Backend> backends, String backend, Tensor x) {
        return new FailureReducer(Engine.withBackends(backends)).reduce(graph, Map.of("x", x), backend);
    }

    @Test
    void aFaultyProvidedOpKernelReducesToItAndItsFileImportsAsTheSameOp() throws IOException {
        ProvidedOp softsign = new ProvidedOp(SOFTSIGN, OpAttributes.empty().with("note", "kept").withInts("axes", 1, 2));
        List<Backend> backends = List.of(new ReferenceBackend(), new NodeFaultBackend("faulty", "middle", 0.01f));
        try (Graph graph = graph(softsign);
             Tensor x = RandomTensors.uniform(SHAPE, 5, "x", -3, 3);
             Reduction r = reduce(graph, backends, "faulty", x).orElseThrow()) {
            assertEquals(List.of("middle"), r.graph().nodes().stream().map(Node::name).toList(), r.description());
            Path file = dir.resolve("reduced.onnx");
            OnnxExporter.write(r.graph(), file);
            try (Graph again = OnnxImporter.load(file, new OpRegistry(List.of(SOFTSIGN)))) {
                assertEquals(softsign, again.nodes().getFirst().op());
                Verification v = new LayerwiseVerifier(Engine.withBackends(backends)).verifyAsWritten(again,
                        r.inputs(), List.of("faulty"));
                assertFalse(v.passed(), "the written file fails as the model did");
                assertEquals("middle", v.verdicts().getFirst().firstDivergent().node());
            }
        }
    }

    @Test
    void aFaultAfterAnOpaqueNodeReducesToItsAncestorsWhichImportAgainWithoutAProvider() throws IOException {
        ProvidedOp triple = new ProvidedOp(new OpaqueOp("com.vendor", "Triple", 1, List.of(SHAPE)), OpAttributes.empty());
        List<Backend> backends = List.of(new ReferenceBackend(), new OpaqueOpBackend("claims", "com.vendor.Triple",
                v -> 3 * v), new NodeFaultBackend("faulty", "sigmoid", 0.01f));
        try (Graph graph = graph(triple);
             Tensor x = RandomTensors.uniform(SHAPE, 5, "x", -3, 3);
             Reduction r = reduce(graph, backends, "faulty", x).orElseThrow()) {
            assertEquals(List.of("relu", "middle", "sigmoid"), r.graph().nodes().stream().map(Node::name).toList(),
                    r.description());
            assertEquals(List.of("middle"), r.verdict().notVerifiable());
            Path file = dir.resolve("reduced.onnx");
            OnnxExporter.write(r.graph(), file);
            try (Graph again = OnnxImporter.load(file, new OpRegistry(List.of()))) {
                ProvidedOp op = assertInstanceOf(ProvidedOp.class, again.nodes().get(1).op());
                assertEquals(triple.provider(), op.provider());
                Verification v = new LayerwiseVerifier(Engine.withBackends(backends)).verifyAsWritten(again,
                        r.inputs(), List.of("faulty"));
                assertEquals("sigmoid", v.verdicts().getFirst().firstDivergent().node());
                assertTrue(v.verdicts().getFirst().notVerifiable().contains("middle"));
            }
        }
    }
}
