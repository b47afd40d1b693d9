package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a caller gets wrong when running a model, and that the model still works afterwards.
 * The model is a 1x1 convolution with weight 2 and bias 1 over one channel, y = 2x + 1, with a
 * symbolic batch: x is declared [?, 1, 2, 2].
 */
class CompiledModelInputErrorsTest {
    private static final Engine ENGINE = Engine.withBackends(List.of(new ReferenceBackend()));

    private Graph graph;
    private CompiledModel model;

    @BeforeEach
    void compile() {
        GraphBuilder b = new GraphBuilder("affine");
        b.input("x", Shape.of(Shape.DYNAMIC, 1, 2, 2));
        b.initializer("w", Tensor.of(Shape.of(1, 1, 1, 1), 2f));
        b.initializer("b", Tensor.of(Shape.of(1), 1f));
        b.add("y", new Conv(Window.of(1, 1), 1), "x", "w", "b");
        b.output("y");
        graph = b.build();
        model = ENGINE.compile(graph, ReferenceBackend.ID);
    }

    @AfterEach
    void close() {
        model.close();
        graph.close();
    }

    /** A correct call: [1, 2, 3, 4] gives [3, 5, 7, 9]. */
    private void assertStillRuns() {
        try (Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4); Tensor y = model.run(x)) {
            assertArrayEquals(new float[] {3, 5, 7, 9}, y.toFloatArray());
        }
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void wrongRank() {
        try (Tensor x = Tensor.allocate(1, 2, 2)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> model.run(x));
            assertMentions(e.getMessage(), "'x'", "rank 4", "rank 3", "[?, 1, 2, 2]", "[1, 2, 2]");
        }
        assertStillRuns();
    }

    @Test
    void wrongShapeNamesExpectedAndActual() {
        try (Tensor x = Tensor.allocate(1, 3, 2, 2)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> model.run(x));
            assertMentions(e.getMessage(), "'x'", "[?, 1, 2, 2]", "[1, 3, 2, 2]");
        }
        assertStillRuns();
    }

    @Test
    void missingInputName() {
        try (Tensor x = Tensor.allocate(1, 1, 2, 2)) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("input", x)));
            assertMentions(e.getMessage(), "missing input 'x'", "input");
        }
        assertStillRuns();
    }

    @Test
    void extraInputName() {
        try (Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4); Tensor extra = Tensor.allocate(1)) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x, "mask", extra)));
            assertMentions(e.getMessage(), "unexpected input 'mask'", "x[?, 1, 2, 2]");
        }
        assertStillRuns();
    }

    @Test
    void closedInputTensor() {
        Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4);
        x.close();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> model.run(x));
        assertMentions(e.getMessage(), "'x'", "closed");
        assertStillRuns();
    }

    @Test
    void closedModelRefusesToRun() {
        model.close();
        try (Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.run(x));
            assertMentions(e.getMessage(), "closed");
            assertThrows(IllegalStateException.class, () -> model.run(Map.of("x", x)));
        }
    }

    @Test
    void closingAModelTwiceIsHarmless() {
        model.close();
        model.close();
    }

    @Test
    void theCallerKeepsItsInputOpenAndUnchanged() {
        try (Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4)) {
            model.run(x).close();
            assertFalse(x.isClosed());
            assertArrayEquals(new float[] {1, 2, 3, 4}, x.toFloatArray());
        }
    }

    @Test
    void eachRunReturnsItsOwnOutput() {
        try (Tensor a = Tensor.of(Shape.of(1, 1, 2, 2), 1, 2, 3, 4);
             Tensor b = Tensor.of(Shape.of(1, 1, 2, 2), 0, 0, 0, 0);
             Tensor ya = model.run(a);
             Tensor yb = model.run(b)) {
            assertArrayEquals(new float[] {3, 5, 7, 9}, ya.toFloatArray());
            assertArrayEquals(new float[] {1, 1, 1, 1}, yb.toFloatArray());
        }
    }

    @Test
    void singleTensorRunOnAModelWithTwoInputs() {
        GraphBuilder b = new GraphBuilder("sum");
        b.input("a", Shape.of(2));
        b.input("b", Shape.of(2));
        b.add("s", Binary.ADD, "a", "b");
        b.output("s");
        try (Graph g = b.build(); CompiledModel sum = ENGINE.compile(g, ReferenceBackend.ID);
             Tensor a = Tensor.of(Shape.of(2), 1, 2); Tensor c = Tensor.of(Shape.of(2), 10, 20)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> sum.run(a));
            assertMentions(e.getMessage(), "2 inputs", "a[2]", "b[2]");
            Map<String, Tensor> out = sum.run(Map.of("a", a, "b", c));
            try (Tensor s = out.get("s")) {
                assertArrayEquals(new float[] {11, 22}, s.toFloatArray());
            }
        }
    }
}
