package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.optimize.GraphFixtures.assertClose;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph whose height and width are open ({@code [?, 3, ?, ?]}) is optimized for its fixed
 * axes: the passes see the size-dependent dimensions as unknown and rewrite what holds at every
 * size; pad folding, which needs a concrete size, is skipped and named.
 */
class OpenImageSizeTest {
    private static final Activation RELU = new Activation(ActivationFunction.RELU);
    private static final Binary ADD = new Binary(Binary.Kind.ADD);

    /**
     * A small ResNet: a strided stem (conv, BN, ReLU), a Pad of -infinity before a max-pool, a
     * basic block, a downsampling block with a projection shortcut, global pool and a classifier.
     */
    static Graph openSizeResNet(long seed) {
        return resNet(seed, Shape.of(Shape.DYNAMIC, 3, Shape.DYNAMIC, Shape.DYNAMIC));
    }

    private static Graph resNet(long seed, Shape input) {
        GraphFixtures f = new GraphFixtures("small-resnet", seed);
        f.builder().input("x", input);
        String stem = f.add("stem_relu", RELU, f.batchNorm("stem_bn", conv(f, "stem", "x", 3, 8, 3, 2), 8));
        String padded = f.add("pool_pad", new Pad(new int[] {0, 0, 1, 1, 0, 0, 1, 1}, Float.NEGATIVE_INFINITY), stem);
        String pooled = f.add("pool", new MaxPool(Window.square(3, 2, 0), false), padded);
        String a = f.add("b1_relu1", RELU, f.batchNorm("b1_bn1", conv(f, "b1_conv1", pooled, 8, 8, 3, 1), 8));
        String b = f.batchNorm("b1_bn2", conv(f, "b1_conv2", a, 8, 8, 3, 1), 8);
        String block1 = f.add("b1_relu2", RELU, f.add("b1_add", ADD, b, pooled));
        String c = f.add("b2_relu1", RELU, f.batchNorm("b2_bn1", conv(f, "b2_conv1", block1, 8, 16, 3, 2), 16));
        String d = f.batchNorm("b2_bn2", conv(f, "b2_conv2", c, 16, 16, 3, 1), 16);
        String shortcut = f.batchNorm("b2_proj_bn", conv(f, "b2_proj", block1, 8, 16, 1, 2), 16);
        String block2 = f.add("b2_relu2", RELU, f.add("b2_add", ADD, shortcut, d));
        String features = f.add("flatten", new Flatten(1), f.add("gap", GlobalPool.AVERAGE, block2));
        String logits = f.add("fc", Gemm.FULLY_CONNECTED, features, f.weights("fc.w", 10, 16), f.weights("fc.b", 10));
        return f.build(logits);
    }

    /** A k x k conv with padding k / 2, this stride, and no bias (a batch-norm follows). */
    private static String conv(GraphFixtures f, String name, String input, int in, int out, int kernel, int stride) {
        String w = f.weights(name + ".w", out, in, kernel, kernel);
        return f.add(name, new Conv(Window.square(kernel, stride, kernel / 2), 1), input, w);
    }

    @Test
    void batchNormsFoldActivationsAndResidualsFuseAndPadFoldingIsSkippedByName() {
        try (Graph g = openSizeResNet(7)) {
            assertFalse(g.hasFixedShapesBesidesBatch());
            OptimizationReport report = new Optimizer().optimize(g);
            try (Graph opt = report.graph()) {
                Map<String, Integer> after = report.opsAfter();
                assertFalse(after.containsKey("BatchNormalization"), "every BN folds: " + after);
                assertFalse(after.containsKey("Relu"), "every ReLU fuses: " + after);
                assertFalse(after.containsKey("Add"), "both residual adds fuse: " + after);
                assertEquals(6, after.getOrDefault("FusedConv", 0) + after.getOrDefault("Conv", 0), after.toString());
                assertEquals(6, report.rewrites().get("batch-norm-folding"), report.rewrites().toString());
                assertEquals(2, report.rewrites().get("residual-add-fusion"), report.rewrites().toString());
                assertEquals(List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU)),
                        ((Conv) producer(opt, "b2_relu2").op()).postOps());
                assertEquals(List.of("pad-folding"), List.copyOf(report.skippedPasses().keySet()));
                assertTrue(report.skippedPasses().get("pad-folding").contains("image size"),
                        report.skippedPasses().toString());
                assertFalse(report.rewrites().containsKey("pad-folding"), "a skipped pass reports no rewrites");
                assertEquals(1, after.get("Pad"), "the Pad before the max-pool stays: " + after);
                assertTrue(report.summary().contains("skipped pad-folding"), report.summary());
                for (int[] size : new int[][] {{20, 24}, {33, 17}}) {
                    assertSameAtSize(g, opt, size[0], size[1]);
                }
            }
        }
    }

    @Test
    void aSizeDependentDimensionIsUnknownAndAFixedOneKnown() {
        try (Graph g = openSizeResNet(8)) {
            ValueShapes shapes = new WorkingGraph(g).shapes();
            assertEquals(Shape.of(1, 8, Shape.DYNAMIC, Shape.DYNAMIC), shapes.of("stem"));
            assertEquals(Shape.of(1, 10), shapes.of("fc"));
            assertEquals(Shape.of(8, 3, 3, 3), shapes.of("stem.w"));
            assertTrue(shapes.sameAtEveryBatch("b2_proj_bn", "b2_bn2"), "projection and main path agree");
            assertFalse(shapes.sameAtEveryBatch("b1_bn2", "b2_bn2"), "blocks of different strides differ");
        }
    }

    /** The same graph with a fixed image size folds the Pad, as before: the skip is for open sizes only. */
    @Test
    void withAFixedImageSizeNoPassIsSkipped() {
        try (Graph fixed = resNet(9, Shape.of(Shape.DYNAMIC, 3, 32, 32))) {
            OptimizationReport report = new Optimizer().optimize(fixed);
            try (Graph opt = report.graph()) {
                assertTrue(report.skippedPasses().isEmpty(), report.skippedPasses().toString());
                assertEquals(1, report.rewrites().get("pad-folding"));
                assertFalse(report.opsAfter().containsKey("Pad"));
            }
        }
    }

    /** A classifier head that fixes the size: the shapes do not infer at the probe sizes, which the optimizer names. */
    @Test
    void aGraphThatOnlyRunsAtOneSizeIsRefusedNamingTheProbe() {
        GraphFixtures f = new GraphFixtures("fixed-head", 10);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, Shape.DYNAMIC, Shape.DYNAMIC));
        String flat = f.add("flatten", new Flatten(1), "x");
        String logits = f.add("fc", Gemm.FULLY_CONNECTED, flat, f.weights("fc.w", 3, 2 * 4 * 4), f.weights("fc.b", 3));
        try (Graph g = f.build(logits)) {
            var e = assertThrows(dev.kiln.graph.GraphValidationException.class, () -> new Optimizer().optimize(g));
            assertTrue(e.getMessage().contains("image size 224x"), e.getMessage());
        }
    }

    private static void assertSameAtSize(Graph original, Graph optimized, int height, int width) {
        Random random = new Random(height * 31L + width);
        float[] values = new float[2 * 3 * height * width];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        try (Tensor x = Tensor.of(Shape.of(2, 3, height, width), values)) {
            float[] expected = run(original, Map.of("x", x)).getFirst();
            float[] actual = run(optimized, Map.of("x", x)).getFirst();
            assertClose(expected, actual, height + "x" + width);
        }
    }
}
