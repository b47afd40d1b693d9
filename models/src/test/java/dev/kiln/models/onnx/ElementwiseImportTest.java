package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Op;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kiln.models.onnx.TestModel.attr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Activations with ONNX's defaults, Clip's two forms, broadcasting arithmetic. */
class ElementwiseImportTest {
    @TempDir
    Path dir;

    private Graph load(TestModel model) {
        return OnnxImporter.load(model.save(dir.resolve("model.onnx")));
    }

    private Op importedOp(String opType, int opset, dev.kiln.models.onnx.proto.OnnxProto.AttributeProto... attributes) {
        try (Graph g = load(TestModel.opset(opset).input("x", -1, 4).output("y")
                .node(opType, List.of("x"), List.of("y"), attributes))) {
            return Runs.mainNode(g).op();
        }
    }

    @Test
    void activationsWithOnnxDefaults() {
        assertEquals(new Activation(ActivationFunction.RELU), importedOp("Relu", 14));
        assertEquals(new Activation(ActivationFunction.SIGMOID), importedOp("Sigmoid", 13));
        assertEquals(new Activation(ActivationFunction.TANH), importedOp("Tanh", 13));
        assertEquals(new Activation(ActivationFunction.HARD_SWISH), importedOp("HardSwish", 14));
        assertEquals(new Activation(ActivationFunction.leakyRelu(0.01f)), importedOp("LeakyRelu", 16));
        assertEquals(new Activation(ActivationFunction.hardSigmoid(0.2f, 0.5f)), importedOp("HardSigmoid", 6));
    }

    @Test
    void activationAttributes() {
        assertEquals(new Activation(ActivationFunction.leakyRelu(0.3f)), importedOp("LeakyRelu", 16, attr("alpha", 0.3f)));
        assertEquals(new Activation(ActivationFunction.hardSigmoid(1f / 6, 0.25f)),
                importedOp("HardSigmoid", 6, attr("alpha", 1f / 6), attr("beta", 0.25f)));
    }

    @Test
    void clipBeforeOpset11TakesAttributes() {
        assertEquals(new Activation(ActivationFunction.clip(-0.5f, 0.5f)),
                importedOp("Clip", 6, attr("min", -0.5f), attr("max", 0.5f)));
        assertEquals(new Activation(ActivationFunction.clip(-Float.MAX_VALUE, 2f)), importedOp("Clip", 6, attr("max", 2f)));
    }

    @Test
    void clipFromOpset11TakesConstantInputs() {
        // ReLU6 as PyTorch exports it: bounds from Constant nodes (opset 13) ...
        TestModel constants = TestModel.opset(13).input("x", -1, 4).output("y")
                .node("Constant", List.of(), List.of("lo"), attr("value", TestModel.rawFloats("", new int[0], 0f)))
                .node("Constant", List.of(), List.of("hi"), attr("value_float", 6f))
                .node("Clip", List.of("x", "lo", "hi"), List.of("y"));
        try (Graph g = load(constants)) {
            assertEquals(new Activation(ActivationFunction.RELU6), Runs.mainNode(g).op());
            assertTrue(g.initializers().isEmpty(), "bounds are attributes, not weights: " + g.initializers().keySet());
            assertArrayEquals(new float[] {0, 0.5f, 6, 6}, Runs.run(g, Shape.of(1, 4), -3, 0.5f, 6, 7).values());
        }
        // ... or initializers (opset 11), and an absent bound is open.
        TestModel initializers = TestModel.opset(11).input("x", -1, 4).scalar("hi", 1f).output("y")
                .node("Clip", List.of("x", "", "hi"), List.of("y"));
        try (Graph g = load(initializers)) {
            assertEquals(new Activation(ActivationFunction.clip(-Float.MAX_VALUE, 1f)), Runs.mainNode(g).op());
        }
    }

    @Test
    void clipBoundsFedAtRunTimeBecomeMaxThenMin() {
        Path file = TestModel.opset(13).input("x", -1, 4).input("min").input("max").output("y")
                .node("Clip", List.of("x", "min", "max"), List.of("y")).save(dir.resolve("clip.onnx"));
        assertEquals(List.of(), OnnxImporter.inspect(file).unsupportedOps());
        try (Graph g = OnnxImporter.load(file)) {
            assertEquals(Map.of("Max", 1, "Min", 1), g.opCounts());
            Runs.Result y = Runs.run(g, Map.of(
                    "x", new Runs.Input(Shape.of(2, 4), new float[] {-3, -2, -1, 0, 1, 2, 3, 4}),
                    "min", new Runs.Input(Shape.of(), new float[] {-1.5f}),
                    "max", new Runs.Input(Shape.of(), new float[] {2.5f})));
            assertArrayEquals(new float[] {-1.5f, -1.5f, -1, 0, 1, 2, 2.5f, 2.5f}, y.values());
        }
        Path onlyMin = TestModel.opset(13).input("x", -1, 4).input("min").output("y")
                .node("Clip", List.of("x", "min"), List.of("y")).save(dir.resolve("clip_min.onnx"));
        try (Graph g = OnnxImporter.load(onlyMin)) {
            Runs.Result y = Runs.run(g, Map.of(
                    "x", new Runs.Input(Shape.of(1, 4), new float[] {-3, -2, 5, 0}),
                    "min", new Runs.Input(Shape.of(), new float[] {-2.5f})));
            assertArrayEquals(new float[] {-2.5f, -2, 5, 0}, y.values());
        }
    }

    @Test
    void maxAndMinTakeAnyNumberOfBroadcastInputs() {
        TestModel max = TestModel.opset(13).input("a", 2, 3).input("b", 3).input("c", 2, 1).output("y")
                .node("Max", List.of("a", "b", "c"), List.of("y"));
        try (Graph g = load(max)) {
            Runs.Result y = Runs.run(g, Map.of(
                    "a", new Runs.Input(Shape.of(2, 3), new float[] {1, 9, 2, 0, 0, 7}),
                    "b", new Runs.Input(Shape.of(3), new float[] {3, 3, 3}),
                    "c", new Runs.Input(Shape.of(2, 1), new float[] {0, 5})));
            assertArrayEquals(new float[] {3, 9, 3, 5, 5, 7}, y.values());
        }
        assertEquals(new Binary(Binary.Kind.MIN), importedBinary("Min"));
    }

    @Test
    void arithmeticBroadcastsAsNumpyDoes() {
        // [2, 3] + [3] adds the row to each row; [2, 1] * [3] is an outer product.
        TestModel add = TestModel.opset(14).input("a", 2, 3).initializer("b", new int[] {3}, 10, 20, 30).output("y")
                .node("Add", List.of("a", "b"), List.of("y"));
        try (Graph g = load(add)) {
            assertEquals(Binary.ADD, Runs.mainNode(g).op());
            assertArrayEquals(new float[] {10, 21, 32, 13, 24, 35}, Runs.run(g, Shape.of(2, 3), Runs.ramp(6)).values());
        }
        TestModel mul = TestModel.opset(7).input("a", 2, 1).input("b", 3).output("y")
                .node("Mul", List.of("a", "b"), List.of("y"));
        try (Graph g = load(mul)) {
            Runs.Result y = Runs.run(g, Map.of("a", new Runs.Input(Shape.of(2, 1), new float[] {2, 3}),
                    "b", new Runs.Input(Shape.of(3), new float[] {1, 10, 100})));
            assertEquals(Shape.of(2, 3), y.shape());
            assertArrayEquals(new float[] {2, 20, 200, 3, 30, 300}, y.values());
        }
        assertEquals(new Binary(Binary.Kind.SUB), importedBinary("Sub"));
        assertEquals(new Binary(Binary.Kind.DIV), importedBinary("Div"));
    }

    private Op importedBinary(String opType) {
        try (Graph g = load(TestModel.opset(13).input("a", 2, 3).input("b", 2, 3).output("y")
                .node(opType, List.of("a", "b"), List.of("y")))) {
            return Runs.mainNode(g).op();
        }
    }

    @Test
    void legacyBroadcastAxisIsAcceptedOnlyWhereItMeansNumpyBroadcasting() {
        // Opset 6: B [3] aligned at axis 1 of A [2, 3] is the trailing alignment NumPy uses.
        TestModel trailing = TestModel.opset(6).input("a", 2, 3).initializer("b", new int[] {3}, 1, 2, 3).output("y")
                .node("Add", List.of("a", "b"), List.of("y"), attr("broadcast", 1L), attr("axis", 1L));
        try (Graph g = load(trailing)) {
            assertArrayEquals(new float[] {1, 3, 5, 4, 6, 8}, Runs.run(g, Shape.of(2, 3), Runs.ramp(6)).values());
        }
        // B [2] at axis 0 of A [2, 3] broadcasts along columns: not NumPy's rule.
        Path leading = TestModel.opset(6).input("a", 2, 3).initializer("b", new int[] {2}, 1, 2).output("y")
                .node("Add", List.of("a", "b"), List.of("y"), attr("broadcast", 1L), attr("axis", 0L))
                .save(dir.resolve("leading.onnx"));
        assertEquals(List.of("Add (legacy broadcast axis)"), OnnxImporter.inspect(leading).unsupportedOps());
    }
}
