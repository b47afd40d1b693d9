package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.kiln.models.onnx.TestModel.attr;
import static dev.kiln.models.onnx.TestModel.floats;
import static dev.kiln.models.onnx.TestModel.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reshape with its shape as an initializer, an attribute, or computed from a symbolic batch;
 * Squeeze and Unsqueeze; Constant nodes in each form.
 */
class ShapeImportTest {
    @TempDir
    Path dir;

    private Graph load(TestModel model) {
        return OnnxImporter.load(model.save(dir.resolve("model.onnx")));
    }

    @Test
    void reshapeWithAConstantShapeKeepsOnnxsZeroAndMinusOne() {
        try (Graph g = load(TestModel.opset(13).input("x", -1, 2, 3).int64s("shape", 0, -1).output("y")
                .node("Reshape", List.of("x", "shape"), List.of("y")))) {
            assertEquals(new Reshape(0, -1), Runs.mainNode(g).op());
            assertTrue(g.initializers().isEmpty(), "the shape is not a weight");
            assertEquals(Shape.of(3, 6), Runs.run(g, Shape.of(3, 2, 3), new float[18]).shape());
        }
        // allowzero (opset 14): a zero is a zero, not a copy.
        try (Graph g = load(TestModel.opset(14).input("x", 0, 3).int64s("shape", 3, 0).output("y")
                .node("Reshape", List.of("x", "shape"), List.of("y"), attr("allowzero", 1L)))) {
            assertEquals(new Reshape(new int[] {3, 0}, true), Runs.mainNode(g).op());
        }
    }

    @Test
    void reshapeBeforeOpset5TakesItsShapeAsAnAttribute() {
        try (Graph g = load(TestModel.opset(4).input("x", 2, 3).output("y")
                .node("Reshape", List.of("x"), List.of("y"), ints("shape", 3, 2)))) {
            assertEquals(new Reshape(3, 2), Runs.mainNode(g).op());
        }
    }

    /**
     * {@code x.view(x.size(0), -1)} as PyTorch 1.13 exports it with a symbolic batch:
     * Shape, Gather (index 0), Unsqueeze, Concat with [-1], Reshape.
     */
    private static TestModel viewAsBatchByRest(int opset) {
        TestModel m = TestModel.opset(opset).input("x", -1, 2, 2, 2).output("y")
                .node("Relu", List.of("x"), List.of("r"))
                .node("Shape", List.of("r"), List.of("s"))
                .node("Constant", List.of(), List.of("zero"), attr("value", TensorProto.newBuilder()
                        .setDataType(DataType.INT64_VALUE).addInt64Data(0).build()))
                .node("Gather", List.of("s", "zero"), List.of("n"), attr("axis", 0L));
        if (opset >= 13) {
            m.int64s("axes", 0).node("Unsqueeze", List.of("n", "axes"), List.of("n1"));
        } else {
            m.node("Unsqueeze", List.of("n"), List.of("n1"), ints("axes", 0));
        }
        return m.node("Constant", List.of(), List.of("rest"), ints("value_ints", -1))
                .node("Concat", List.of("n1", "rest"), List.of("shape"), attr("axis", 0L))
                .node("Reshape", List.of("r", "shape"), List.of("y"));
    }

    @Test
    void reshapeComputedFromASymbolicBatchWorksAtEveryBatchSize() {
        for (int opset : new int[] {11, 13}) {
            try (Graph g = load(viewAsBatchByRest(opset))) {
                assertEquals(List.of("Relu", "Reshape"), g.nodes().stream().map(n -> n.op().type()).toList());
                assertEquals(new Reshape(0, -1), g.nodes().getLast().op(), "opset " + opset);
                for (int batch : new int[] {1, 3}) {
                    float[] x = Runs.values(batch * 8, batch);
                    Runs.Result y = Runs.run(g, Shape.of(batch, 2, 2, 2), x);
                    assertEquals(Shape.of(batch, 8), y.shape());
                    float[] relu = x.clone();
                    for (int i = 0; i < relu.length; i++) {
                        relu[i] = Math.max(relu[i], 0);
                    }
                    assertArrayEquals(relu, y.values());
                }
            }
        }
    }

    @Test
    void aShapeOfStaticDimsBecomesNumbers() {
        // Shape(x) from axis 1 (opset 15's start) of [N, 2, 3] is [2, 3], known at import time.
        TestModel m = TestModel.opset(15).input("x", -1, 2, 3).output("y")
                .node("Shape", List.of("x"), List.of("s"), attr("start", 1L))
                .node("Constant", List.of(), List.of("lead"), ints("value_ints", -1, 1))
                .node("Concat", List.of("lead", "s"), List.of("shape"), attr("axis", 0L))
                .node("Reshape", List.of("x", "shape"), List.of("y"));
        try (Graph g = load(m)) {
            assertEquals(new Reshape(-1, 1, 2, 3), Runs.mainNode(g).op());
            assertEquals(Shape.of(4, 1, 2, 3), Runs.run(g, Shape.of(4, 2, 3), new float[24]).shape());
        }
    }

    @Test
    void squeezeAndUnsqueezeOfDataBecomeReshapes() {
        // Opset 11: axes as attributes; PyTorch's AvgPool1d export wraps a 2-D pool this way.
        try (Graph g = load(TestModel.opset(11).input("x", -1, 3, 4).output("y")
                .node("Unsqueeze", List.of("x"), List.of("u"), ints("axes", 2))
                .node("Relu", List.of("u"), List.of("r"))
                .node("Squeeze", List.of("r"), List.of("y"), ints("axes", -2)))) {
            assertEquals(new Reshape(0, 3, 1, 4), g.nodes().getFirst().op());
            assertEquals(new Reshape(0, 3, 4), g.nodes().getLast().op());
            assertEquals(Shape.of(2, 3, 4), Runs.run(g, Shape.of(2, 3, 4), new float[24]).shape());
        }
        // Opset 13: axes as inputs; a Squeeze without axes drops every dim of size 1.
        try (Graph g = load(TestModel.opset(13).input("x", 1, 3, 1, 4).int64s("axes", 0, -1).output("y")
                .node("Squeeze", List.of("x"), List.of("s"))
                .node("Unsqueeze", List.of("s", "axes"), List.of("y")))) {
            Runs.Result y = Runs.run(g, Shape.of(1, 3, 1, 4), Runs.ramp(12));
            assertEquals(Shape.of(1, 3, 4, 1), y.shape());
            assertArrayEquals(Runs.ramp(12), y.values());
        }
    }

    @Test
    void constantNodesInEveryForm() {
        // value (a tensor), value_float, value_floats feed an Add as data and become initializers.
        TestModel m = TestModel.opset(13).input("x", 3).output("y")
                .node("Constant", List.of(), List.of("a"), attr("value", TestModel.typedFloats("", new int[] {3}, 1, 2, 3)))
                .node("Constant", List.of(), List.of("b"), attr("value_float", 10f))
                .node("Constant", List.of(), List.of("c"), floats("value_floats", 100, 200, 300))
                .node("Add", List.of("x", "a"), List.of("xa"))
                .node("Add", List.of("xa", "b"), List.of("xab"))
                .node("Add", List.of("xab", "c"), List.of("y"));
        try (Graph g = load(m)) {
            assertEquals(java.util.Set.of("a", "b", "c"), g.initializers().keySet());
            assertEquals(Shape.of(), g.initializers().get("b").shape(), "value_float is a scalar");
            assertArrayEquals(new float[] {111, 212, 313}, Runs.run(g, Shape.of(3), 0, 0, 0).values());
        }
        // value_int(s) are integer constants: shapes and axes, never data.
        try (Graph g = load(TestModel.opset(13).input("x", 2, 3).output("y")
                .node("Constant", List.of(), List.of("s"), ints("value_ints", 3, 2))
                .node("Reshape", List.of("x", "s"), List.of("y")))) {
            assertEquals(new Reshape(3, 2), Runs.mainNode(g).op());
            assertTrue(g.initializers().isEmpty());
        }
    }

    @Test
    void aConstantCanBeTheGraphOutput() {
        try (Graph g = load(TestModel.opset(13).output("y")
                .node("Constant", List.of(), List.of("y"), attr("value", TestModel.rawFloats("", new int[] {2}, 4, 5))))) {
            assertTrue(g.nodes().isEmpty());
            assertArrayEquals(new float[] {4, 5}, g.initializers().get("y").toFloatArray());
        }
    }

    @Test
    void integerDataIsRefusedWithItsType() {
        Path file = TestModel.opset(13).input("x", 2).output("y")
                .node("Constant", List.of(), List.of("k"), ints("value_ints", 1, 2))
                .node("Add", List.of("x", "k"), List.of("y")).save(dir.resolve("ints.onnx"));
        assertEquals(List.of("INT64 data"), OnnxImporter.inspect(file).unsupportedOps());
        OnnxFormatException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.load(file));
        assertTrue(e.getMessage().contains("'k'") && e.getMessage().contains("INT64"), e.getMessage());
    }
}
