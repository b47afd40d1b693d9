package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Window;
import dev.kiln.graph.ops.Window.AutoPad;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static dev.kiln.models.onnx.TestModel.attr;
import static dev.kiln.models.onnx.TestModel.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conv, MaxPool and AveragePool: ONNX attributes and defaults to Kiln windows, 1-D as 2-D. */
class ConvolutionImportTest {
    @TempDir
    Path dir;

    private static final float[] W = Runs.values(6 * 2 * 3 * 3, 1);
    private static final float[] B = Runs.values(6, 2);

    private Graph load(TestModel model) {
        return OnnxImporter.load(model.save(dir.resolve("model.onnx")));
    }

    @Test
    void convAttributesBecomeTheWindowInOnnxPadOrder() {
        // pads are [top, left, bottom, right]: x1_begin, x2_begin, x1_end, x2_end.
        TestModel m = TestModel.opset(13).input("x", -1, 4, 9, 8).initializer("w", new int[] {6, 2, 3, 3}, W)
                .initializer("b", new int[] {6}, B).output("y")
                .node("Conv", List.of("x", "w", "b"), List.of("y"), ints("pads", 1, 0, 2, 1), ints("strides", 2, 1),
                        ints("dilations", 1, 2), attr("group", 2), ints("kernel_shape", 3, 3));
        try (Graph g = load(m)) {
            Conv expected = new Conv(new Window(3, 3, 2, 1, 1, 0, 2, 1, 1, 2, AutoPad.EXPLICIT), 2);
            assertEquals(expected, Runs.mainNode(g).op());
            assertEquals(List.of("x", "w", "b"), Runs.mainNode(g).inputs());
            for (int batch : new int[] {1, 3}) {
                assertSameAsDirect(g, expected, batch, 4, 9, 8, true);
            }
        }
    }

    @Test
    void convDefaultsAreUnitStridesNoPaddingOneGroupAndTheWeightsKernel() {
        TestModel m = TestModel.opset(11).input("x", 1, 2, 5, 5).initializer("w", new int[] {6, 2, 3, 3}, W)
                .output("y").node("Conv", List.of("x", "w"), List.of("y"));
        try (Graph g = load(m)) {
            Conv expected = new Conv(Window.of(3, 3), 1);
            assertEquals(expected, Runs.mainNode(g).op());
            assertSameAsDirect(g, expected, 1, 2, 5, 5, false);
        }
    }

    @ParameterizedTest
    @CsvSource({"SAME_UPPER, SAME_UPPER", "SAME_LOWER, SAME_LOWER", "VALID, VALID", "NOTSET, EXPLICIT"})
    void autoPadModes(String onnx, AutoPad kiln) {
        TestModel m = TestModel.opset(13).input("x", -1, 2, 6, 7).initializer("w", new int[] {6, 2, 3, 3}, W)
                .output("y").node("Conv", List.of("x", "w"), List.of("y"), attr("auto_pad", onnx),
                        ints("strides", 2, 2));
        try (Graph g = load(m)) {
            Conv expected = new Conv(Window.square(3, 2, 0).withAutoPad(kiln), 1);
            assertEquals(expected, Runs.mainNode(g).op());
            assertSameAsDirect(g, expected, 2, 2, 6, 7, false);
        }
    }

    @Test
    void weightsFedAsGraphInputsWork() {
        // Input 1x1x3x3 of 0..8, weights 2x2 of ones: each output sums a 2x2 block.
        TestModel m = TestModel.opset(11).input("x", 1, 1, 3, 3).input("w", 1, 1, 2, 2).output("y")
                .node("Conv", List.of("x", "w"), List.of("y"));
        try (Graph g = load(m)) {
            Runs.Result y = Runs.run(g, java.util.Map.of(
                    "x", new Runs.Input(Shape.of(1, 1, 3, 3), Runs.ramp(9)),
                    "w", new Runs.Input(Shape.of(1, 1, 2, 2), new float[] {1, 1, 1, 1})));
            assertEquals(Shape.of(1, 1, 2, 2), y.shape());
            assertArrayEquals(new float[] {0 + 1 + 3 + 4, 1 + 2 + 4 + 5, 3 + 4 + 6 + 7, 4 + 5 + 7 + 8}, y.values());
        }
    }

    @Test
    void oneDimensionalConvRunsAsTwoDimensionalWithHeightOne() {
        // x [N, 1, 5] = 0..4, w [1, 1, 3] = (1, 0, -1), pads 1 each side, stride 2: y[i] = x[2i-1] - x[2i+1].
        TestModel m = TestModel.opset(13).input("x", -1, 1, 5).initializer("w", new int[] {1, 1, 3}, 1, 0, -1)
                .initializer("b", new int[] {1}, 10).output("y")
                .node("Conv", List.of("x", "w", "b"), List.of("y"), ints("pads", 1, 1), ints("strides", 2));
        try (Graph g = load(m)) {
            Runs.Result y = Runs.run(g, Shape.of(1, 1, 5), Runs.ramp(5));
            assertEquals(Shape.of(1, 1, 3), y.shape());
            assertArrayEquals(new float[] {10 + 0 - 1, 10 + 1 - 3, 10 + 3 - 0}, y.values());
            // Second sample 4..0: 10 - 3, 10 + 3 - 1, 10 + 1.
            Runs.Result batch2 = Runs.run(g, Shape.of(2, 1, 5), new float[] {0, 1, 2, 3, 4, 4, 3, 2, 1, 0});
            assertEquals(Shape.of(2, 1, 3), batch2.shape());
            assertArrayEquals(new float[] {9, 8, 13, 7, 12, 11}, batch2.values());
        }
    }

    @Test
    void threeDimensionalConvIsReportedUnsupported() {
        TestModel m = TestModel.opset(13).input("x", 1, 1, 3, 3, 3).input("w", 1, 1, 2, 2, 2).output("y")
                .node("Conv", List.of("x", "w"), List.of("y"));
        Path file = m.save(dir.resolve("conv3d.onnx"));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(file));
        assertTrue(e.getMessage().contains("conv0") && e.getMessage().contains("3-D"), e.getMessage());
        assertEquals(List.of("Conv (3-D)"), OnnxImporter.inspect(file).unsupportedOps());
    }

    @Test
    void maxPoolAttributes() {
        TestModel m = TestModel.opset(12).input("x", -1, 2, 7, 7).output("y")
                .node("MaxPool", List.of("x"), List.of("y"), ints("kernel_shape", 3, 2), ints("strides", 2, 2),
                        ints("pads", 1, 0, 1, 1), ints("dilations", 1, 2), attr("ceil_mode", 1),
                        attr("storage_order", 1));
        try (Graph g = load(m)) {
            // storage_order only affects the Indices output, which is not asked for here.
            assertEquals(new MaxPool(new Window(3, 2, 2, 2, 1, 0, 1, 1, 1, 2, AutoPad.EXPLICIT), true),
                    Runs.mainNode(g).op());
        }
    }

    @Test
    void maxPoolDefaultsAndAutoPad() {
        TestModel m = TestModel.opset(12).input("x", -1, 2, 7, 7).output("y")
                .node("MaxPool", List.of("x"), List.of("y"), ints("kernel_shape", 2, 2), attr("auto_pad", "SAME_UPPER"));
        try (Graph g = load(m)) {
            assertEquals(new MaxPool(Window.of(2, 2).withAutoPad(AutoPad.SAME_UPPER), false), Runs.mainNode(g).op());
        }
    }

    @Test
    void maxPoolIndicesOutputIsRefusedWhenRead() {
        TestModel m = TestModel.opset(12).input("x", 1, 1, 4, 4).output("y").output("i")
                .node("MaxPool", List.of("x"), List.of("y", "i"), ints("kernel_shape", 2, 2));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> load(m).close());
        assertTrue(e.getMessage().contains("Indices"), e.getMessage());
    }

    @Test
    void averagePoolCountIncludePadAndCeilMode() {
        // 1x1x2x2 input of 1..4, 2x2 window, stride 2, one row of padding on top.
        float[] x = {1, 2, 3, 4};
        TestModel exclude = TestModel.opset(11).input("x", 1, 1, 2, 2).output("y")
                .node("AveragePool", List.of("x"), List.of("y"), ints("kernel_shape", 2, 2), ints("strides", 2, 2),
                        ints("pads", 1, 0, 0, 0), attr("ceil_mode", 1));
        try (Graph g = load(exclude)) {
            assertEquals(new AveragePool(new Window(2, 2, 2, 2, 1, 0, 0, 0, 1, 1, AutoPad.EXPLICIT), true, false),
                    Runs.mainNode(g).op());
            // Windows: rows -1..0 (only row 0 real) and, in ceil mode, row 1 alone.
            assertArrayEquals(new float[] {(1 + 2) / 2f, (3 + 4) / 2f}, Runs.run(g, Shape.of(1, 1, 2, 2), x).values());
        }
        TestModel include = TestModel.opset(11).input("x", 1, 1, 2, 2).output("y")
                .node("AveragePool", List.of("x"), List.of("y"), ints("kernel_shape", 2, 2), ints("strides", 2, 2),
                        ints("pads", 1, 0, 0, 0), attr("ceil_mode", 1), attr("count_include_pad", 1));
        try (Graph g = load(include)) {
            // The padded row counts; the row ceil mode adds past the input does not.
            assertArrayEquals(new float[] {(1 + 2) / 4f, (3 + 4) / 2f}, Runs.run(g, Shape.of(1, 1, 2, 2), x).values());
        }
    }

    @Test
    void oneDimensionalPoolingAndAutoPad() {
        TestModel m = TestModel.opset(11).input("x", -1, 1, 5).output("y")
                .node("AveragePool", List.of("x"), List.of("y"), ints("kernel_shape", 2), attr("auto_pad", "SAME_UPPER"));
        try (Graph g = load(m)) {
            // SAME_UPPER with stride 1 pads one position at the end, not counted in the mean.
            Runs.Result y = Runs.run(g, Shape.of(1, 1, 5), 0, 2, 4, 6, 8);
            assertEquals(Shape.of(1, 1, 5), y.shape());
            assertArrayEquals(new float[] {1, 3, 5, 7, 8}, y.values());
        }
    }

    @Test
    void dilatedAveragePoolingIsUnsupported() {
        TestModel m = TestModel.opset(18).input("x", 1, 1, 5, 5).output("y")
                .node("AveragePool", List.of("x"), List.of("y"), ints("kernel_shape", 2, 2), ints("dilations", 2, 2));
        Path file = m.save(dir.resolve("dilated.onnx"));
        assertEquals(List.of("AveragePool (dilations)"), OnnxImporter.inspect(file).unsupportedOps());
    }

    /** The imported graph gives what the same op in a graph built directly gives. */
    private static void assertSameAsDirect(Graph imported, Op op, int batch, int c, int h, int w, boolean bias) {
        float[] x = Runs.values(batch * c * h * w, batch);
        Shape shape = Shape.of(batch, c, h, w);
        Runs.Result got = Runs.run(imported, shape, x);
        GraphBuilder b = new GraphBuilder("direct").input("x", Shape.of(-1, c, h, w))
                .initializer("w", Tensor.of(Shape.of(6, 2, 3, 3), W));
        if (bias) {
            b.initializer("b", Tensor.of(Shape.of(6), B));
            b.add("y", op, "x", "w", "b");
        } else {
            b.add("y", op, "x", "w");
        }
        try (Graph direct = b.output("y").build()) {
            Runs.Result want = Runs.run(direct, shape, x);
            assertEquals(want.shape(), got.shape());
            assertArrayEquals(want.values(), got.values());
        }
    }
}
