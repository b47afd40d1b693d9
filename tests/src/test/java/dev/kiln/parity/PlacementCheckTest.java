package dev.kiln.parity;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity tests' placement check bites: a node the backend under test leaves to another is
 * reported (and fails the parity case), with where it ran and why.
 */
class PlacementCheckTest {
    private static final Engine ENGINE = Engine.create();

    /** x [2, 4] times a constant [4, 3]: a MatMul, which cpu-simd has no kernel for. */
    private static Graph matMul() {
        GraphBuilder b = new GraphBuilder("matmul");
        b.input("x", Shape.of(2, 4));
        b.initializer("w", Tensor.of(Shape.of(4, 3), new float[12]));
        b.output(b.add("product", new MatMul(), "x", "w"));
        return b.build();
    }

    @Test
    void aNodeLeftToAnotherBackendIsReported() {
        try (Graph g = matMul(); CompiledModel compiled = ENGINE.compile(g, "cpu-simd")) {
            List<String> misplaced = PyTorchParityTest.misplaced("matmul on cpu-simd", "cpu-simd", compiled, 1);
            assertEquals(1, misplaced.size(), misplaced.toString());
            assertTrue(misplaced.getFirst().startsWith("matmul on cpu-simd: node 'product' (MatMul) ran on ")
                    && misplaced.getFirst().contains("cpu-simd cannot run it"), misplaced.getFirst());
        }
    }

    @Test
    void nothingIsReportedWhenEveryNodeRunsOnTheBackend() {
        try (Graph g = matMul(); CompiledModel compiled = ENGINE.compile(g, ReferenceBackend.ID)) {
            assertEquals(List.of(), PyTorchParityTest.misplaced("matmul on reference", ReferenceBackend.ID, compiled, 1));
        }
    }
}
