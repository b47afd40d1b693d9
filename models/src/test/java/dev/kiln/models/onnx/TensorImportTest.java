package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kiln.models.onnx.TestModel.attr;
import static dev.kiln.models.onnx.TestModel.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BatchNormalization, Gemm, Softmax, Dropout, Pad, LRN and the ops that only pass data on. */
class TensorImportTest {
    @TempDir
    Path dir;

    private Graph load(TestModel model) {
        return OnnxImporter.load(model.save(dir.resolve("model.onnx")));
    }

    private List<String> unsupported(TestModel model) {
        return OnnxImporter.inspect(model.save(dir.resolve("inspected.onnx"))).unsupportedOps();
    }

    private static TestModel batchNorm(int opset) {
        return TestModel.opset(opset).input("x", -1, 2, 1, 2)
                .initializer("scale", new int[] {2}, 1, 2).initializer("bias", new int[] {2}, 0, 1)
                .initializer("mean", new int[] {2}, 1, -1).initializer("var", new int[] {2}, 4, 0.25f).output("y");
    }

    @Test
    void batchNormalizationAcrossOpsets() {
        // Channel 0: (x - 1) / 2; channel 1: 2 * (x + 1) / 0.5 + 1 (epsilon 0 to keep the numbers round).
        for (int opset : new int[] {6, 9, 15}) {
            TestModel m = batchNorm(opset).node("BatchNormalization", List.of("x", "scale", "bias", "mean", "var"),
                    List.of("y"), attr("epsilon", 0f), attr("momentum", 0.9f));
            try (Graph g = load(m)) {
                assertEquals(new BatchNormalization(0f), Runs.mainNode(g).op(), "opset " + opset);
                assertArrayEquals(new float[] {-0.5f, 0.5f, 9, 13},
                        Runs.run(g, Shape.of(1, 2, 1, 2), 0, 2, 1, 2).values(), "opset " + opset);
                // Running statistics are buffers, not parameters.
                assertEquals(4, g.parameterCount());
            }
        }
        try (Graph g = load(batchNorm(15).node("BatchNormalization", List.of("x", "scale", "bias", "mean", "var"),
                List.of("y")))) {
            assertEquals(new BatchNormalization(1e-5f), Runs.mainNode(g).op(), "default epsilon");
        }
    }

    @Test
    void batchNormalizationTrainingFormsAreUnsupported() {
        assertEquals(List.of("BatchNormalization (training_mode=1)"), unsupported(batchNorm(15).node(
                "BatchNormalization", List.of("x", "scale", "bias", "mean", "var"), List.of("y"),
                attr("training_mode", 1L))));
        assertEquals(List.of("BatchNormalization (spatial=0)"), unsupported(batchNorm(7).node(
                "BatchNormalization", List.of("x", "scale", "bias", "mean", "var"), List.of("y"), attr("spatial", 0L))));
        assertEquals(List.of("BatchNormalization (training outputs)"), unsupported(batchNorm(9).output("m").node(
                "BatchNormalization", List.of("x", "scale", "bias", "mean", "var"), List.of("y", "m"))));
    }

    @Test
    void gemmAttributesAndEveryBiasShape() {
        // A' = A^T [2x3]^T... : A is [3, 2] with transA, B is [4, 3] with transB, so A' [2, 3], B' [3, 4].
        float[] a = Runs.ramp(6);
        float[] b = Runs.values(12, 3);
        int[][] biasShapes = {{}, {1}, {4}, {1, 4}, {2, 1}, {2, 4}};
        for (int[] cDims : biasShapes) {
            int count = 1;
            for (int d : cDims) {
                count *= d;
            }
            float[] c = Runs.values(count, count);
            TestModel m = TestModel.opset(13).input("a", 3, 2).initializer("b", new int[] {4, 3}, b)
                    .initializer("c", cDims, c).output("y")
                    .node("Gemm", List.of("a", "b", "c"), List.of("y"), attr("alpha", 0.5f), attr("beta", 2f),
                            attr("transA", 1L), attr("transB", 1L));
            try (Graph g = load(m)) {
                assertEquals(new Gemm(0.5f, 2f, true, true), Runs.mainNode(g).op());
                float[] y = Runs.run(g, Shape.of(3, 2), a).values();
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 4; j++) {
                        double sum = 0;
                        for (int k = 0; k < 3; k++) {
                            sum += a[k * 2 + i] * b[j * 3 + k];
                        }
                        int ci = cDims.length < 2 ? (cDims.length == 0 || cDims[0] == 1 ? 0 : j)
                                : (cDims[0] == 1 ? 0 : i) * cDims[1] + (cDims[1] == 1 ? 0 : j);
                        assertEquals(0.5 * sum + 2 * c[ci], y[i * 4 + j], 1e-5,
                                "C " + java.util.Arrays.toString(cDims) + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void gemmDefaultsAndNoBias() {
        try (Graph g = load(TestModel.opset(11).input("a", 2, 3).input("b", 3, 4).output("y")
                .node("Gemm", List.of("a", "b"), List.of("y")))) {
            assertEquals(new Gemm(1, 1, false, false), Runs.mainNode(g).op());
            assertEquals(List.of("a", "b"), Runs.mainNode(g).inputs());
        }
    }

    @Test
    void softmaxBeforeOpset13CoercesTo2dFromAxis1AndLaterUsesTheLastAxis() {
        try (Graph g = load(TestModel.opset(11).input("x", 2, 2, 2).output("y")
                .node("Softmax", List.of("x"), List.of("y")))) {
            assertEquals(new Softmax(1, true), Runs.mainNode(g).op());
            // Each batch row of 4 values is one distribution.
            float[] y = Runs.run(g, Shape.of(2, 2, 2), 0, 0, 0, 0, 1, 1, 1, 1).values();
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, y, 1e-7f);
        }
        try (Graph g = load(TestModel.opset(13).input("x", 2, 2, 2).output("y")
                .node("Softmax", List.of("x"), List.of("y")))) {
            assertEquals(new Softmax(-1, false), Runs.mainNode(g).op());
            float[] y = Runs.run(g, Shape.of(2, 2, 2), 0, 0, 0, 0, 0, (float) Math.log(3), 1, 1).values();
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.25f, 0.75f, 0.5f, 0.5f}, y, 1e-6f);
        }
    }

    @Test
    void dropoutIsIdentityInEveryOpsetForm() {
        TestModel old = TestModel.opset(10).input("x", -1, 3).output("y")
                .node("Dropout", List.of("x"), List.of("y"), attr("ratio", 0.3f));
        TestModel ratioInput = TestModel.opset(13).input("x", -1, 3).scalar("r", 0.5f).output("y")
                .node("Dropout", List.of("x", "r"), List.of("y"));
        TestModel trainingFalse = TestModel.opset(13).input("x", -1, 3).scalar("r", 0.5f)
                .initializer(dev.kiln.models.onnx.proto.OnnxProto.TensorProto.newBuilder().setName("t")
                        .setDataType(DataType.BOOL_VALUE).addInt32Data(0).build())
                .output("y").node("Dropout", List.of("x", "r", "t"), List.of("y", ""));
        for (TestModel m : List.of(old, ratioInput, trainingFalse)) {
            try (Graph g = load(m)) {
                assertEquals(Passthrough.DROPOUT, Runs.mainNode(g).op());
                assertArrayEquals(new float[] {1, 2, 3}, Runs.run(g, Shape.of(1, 3), 1, 2, 3).values());
                assertTrue(g.initializers().isEmpty(), "the ratio is not a weight: " + g.initializers().keySet());
            }
        }
    }

    @Test
    void dropoutInTrainingModeOrWithItsMaskReadIsUnsupported() {
        TestModel training = TestModel.opset(13).input("x", -1, 3).scalar("r", 0.5f)
                .initializer(dev.kiln.models.onnx.proto.OnnxProto.TensorProto.newBuilder().setName("t")
                        .setDataType(DataType.BOOL_VALUE).addInt32Data(1).build())
                .output("y").node("Dropout", List.of("x", "r", "t"), List.of("y"));
        assertEquals(List.of("Dropout (training_mode=true)"), unsupported(training));
        TestModel mask = TestModel.opset(13).input("x", -1, 3).output("y").output("m")
                .node("Dropout", List.of("x"), List.of("y", "m"));
        assertEquals(List.of("Dropout (mask output)"), unsupported(mask));
    }

    @Test
    void padInItsThreeForms() {
        // [1, 2] padded with one column before and two after, value 7.
        TestModel attributes = TestModel.opset(2).input("x", 1, 2).output("y")
                .node("Pad", List.of("x"), List.of("y"), ints("pads", 0, 1, 0, 2), attr("value", 7f));
        TestModel inputs = TestModel.opset(13).input("x", 1, 2).int64s("pads", 0, 1, 0, 2).scalar("v", 7f)
                .output("y").node("Pad", List.of("x", "pads", "v"), List.of("y"));
        TestModel axes = TestModel.opset(18).input("x", 1, 2).int64s("pads", 1, 2).scalar("v", 7f)
                .int64s("axes", -1).output("y").node("Pad", List.of("x", "pads", "v", "axes"), List.of("y"));
        for (TestModel m : List.of(attributes, inputs, axes)) {
            try (Graph g = load(m)) {
                assertEquals(new Pad(new int[] {0, 1, 0, 2}, 7f), Runs.mainNode(g).op());
                assertArrayEquals(new float[] {7, 1, 2, 7, 7}, Runs.run(g, Shape.of(1, 2), 1, 2).values());
            }
        }
        try (Graph g = load(TestModel.opset(11).input("x", 1, 2).int64s("pads", 0, 0, 0, 0).output("y")
                .node("Pad", List.of("x", "pads"), List.of("y")))) {
            assertEquals(Passthrough.IDENTITY, Runs.mainNode(g).op(), "zero pads");
        }
    }

    @Test
    void padModesOtherThanConstantAndNegativePadsAreUnsupported() {
        assertEquals(List.of("Pad (reflect mode)"), unsupported(TestModel.opset(13).input("x", 1, 4)
                .int64s("pads", 0, 1, 0, 1).output("y")
                .node("Pad", List.of("x", "pads"), List.of("y"), attr("mode", "reflect"))));
        assertEquals(List.of("Pad (negative pads)"), unsupported(TestModel.opset(13).input("x", 1, 4)
                .int64s("pads", 0, -1, 0, 0).output("y").node("Pad", List.of("x", "pads"), List.of("y"))));
    }

    @Test
    void lrnDefaultsAndAttributes() {
        try (Graph g = load(TestModel.opset(13).input("x", 1, 3, 2, 2).output("y")
                .node("LRN", List.of("x"), List.of("y"), attr("size", 3L)))) {
            assertEquals(new Lrn(3, 1e-4f, 0.75f, 1f), Runs.mainNode(g).op());
        }
        try (Graph g = load(TestModel.opset(13).input("x", 1, 3, 2, 2).output("y").node("LRN", List.of("x"),
                List.of("y"), attr("size", 5L), attr("alpha", 2e-4f), attr("beta", 0.5f), attr("bias", 2f)))) {
            assertEquals(new Lrn(5, 2e-4f, 0.5f, 2f), Runs.mainNode(g).op());
        }
    }

    @Test
    void dataMovementOps() {
        try (Graph g = load(TestModel.opset(13).input("a", -1, 2).input("b", -1, 3).output("y")
                .node("Concat", List.of("a", "b"), List.of("y"), attr("axis", -1L)))) {
            assertEquals(new Concat(-1), Runs.mainNode(g).op());
            Runs.Result y = Runs.run(g, Map.of("a", new Runs.Input(Shape.of(1, 2), new float[] {1, 2}),
                    "b", new Runs.Input(Shape.of(1, 3), new float[] {3, 4, 5})));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5}, y.values());
        }
        try (Graph g = load(TestModel.opset(13).input("x", -1, 2, 2, 2).output("y")
                .node("Flatten", List.of("x"), List.of("y")))) {
            assertEquals(new Flatten(1), Runs.mainNode(g).op());
            assertEquals(Shape.of(3, 8), Runs.run(g, Shape.of(3, 2, 2, 2), new float[24]).shape());
        }
        try (Graph g = load(TestModel.opset(13).input("x", -1, 2).output("y")
                .node("Identity", List.of("x"), List.of("y")))) {
            assertEquals(Passthrough.IDENTITY, Runs.mainNode(g).op());
        }
        try (Graph g = load(TestModel.opset(13).input("a", 2, 3).input("b", 3).output("y")
                .node("MatMul", List.of("a", "b"), List.of("y")))) {
            assertEquals(new MatMul(), Runs.mainNode(g).op());
        }
        try (Graph g = load(TestModel.opset(13).input("x", -1, 2, 3, 3).output("y")
                .node("GlobalAveragePool", List.of("x"), List.of("y")))) {
            assertEquals(GlobalPool.AVERAGE, Runs.mainNode(g).op());
        }
        try (Graph g = load(TestModel.opset(13).input("x", -1, 2, 3, 3).output("y")
                .node("GlobalMaxPool", List.of("x"), List.of("y")))) {
            assertEquals(GlobalPool.MAX, Runs.mainNode(g).op());
        }
    }

    @Test
    void concatNeedsItsAxisFromOpset4() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> load(TestModel.opset(13)
                .input("a", 1, 2).input("b", 1, 2).output("y").node("Concat", List.of("a", "b"), List.of("y"))));
        assertTrue(e.getMessage().contains("concat0") && e.getMessage().contains("axis"), e.getMessage());
    }

    @Test
    void transposeWithAndWithoutPerm() {
        try (Graph g = load(TestModel.opset(13).input("x", 2, 3).output("y")
                .node("Transpose", List.of("x"), List.of("y"), ints("perm", 1, 0)))) {
            assertEquals(new Transpose(new int[] {1, 0}), Runs.mainNode(g).op());
            Runs.Result y = Runs.run(g, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            assertEquals(Shape.of(3, 2), y.shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, y.values());
        }
        try (Graph g = load(TestModel.opset(13).input("x", 2, 3, 4).output("y")
                .node("Transpose", List.of("x"), List.of("y")))) {
            assertEquals(Shape.of(4, 3, 2), Runs.run(g, Shape.of(2, 3, 4), new float[24]).shape());
        }
        assertThrows(OnnxFormatException.class, () -> load(TestModel.opset(13).input("x", 2, 3).output("y")
                .node("Transpose", List.of("x"), List.of("y"), ints("perm", 1, 1))));
    }

    /** What PyTorch exports for a bias-free Linear: MatMul(x, Transpose(W)). */
    @Test
    void biasFreeLinearAsTransposeAndMatMul() {
        try (Graph g = load(TestModel.opset(13).input("x", -1, 3).output("y")
                .initializer("w", new int[] {2, 3}, 1, 2, 3, 4, 5, 6)
                .node("Transpose", List.of("w"), List.of("wt"), ints("perm", 1, 0))
                .node("MatMul", List.of("x", "wt"), List.of("y")))) {
            // x = [1, 0, 2]: y = [1 + 6, 4 + 12]
            assertArrayEquals(new float[] {7, 16}, Runs.run(g, Shape.of(1, 3), 1, 0, 2).values());
        }
    }
}
