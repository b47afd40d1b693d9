package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BatchNormFoldingTest {
    private final Pass pass = new BatchNormFolding();

    @ParameterizedTest(name = "{0} -> {1} channels, groups {2}, bias {3}")
    @CsvSource({
            "3, 5, 1, true",   // plain conv with bias
            "3, 5, 1, false",  // conv without bias gets one
            "4, 6, 2, true",   // grouped
            "6, 6, 6, false",  // depthwise
    })
    void foldsIntoThePrecedingConv(int inChannels, int outChannels, int groups, boolean bias) {
        GraphFixtures f = new GraphFixtures("conv-bn", 10 + groups);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, inChannels, 6, 5));
        String c = f.conv("conv", "x", inChannels, outChannels, 3, groups, bias);
        String bn = f.batchNorm("bn", c, outChannels);
        try (Graph g = f.build(bn)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1), report.opsAfter());
                Node folded = producer(opt, "bn");
                assertEquals("conv", folded.name());
                assertEquals(groups, ((Conv) folded.op()).groups());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @ParameterizedTest(name = "transB {0}, C {1}, beta {2}")
    @CsvSource({
            "true, true, 1",
            "false, true, 0.5",
            "true, false, 1",
    })
    void foldsIntoThePrecedingGemm(boolean transB, boolean withC, float beta) {
        GraphFixtures f = new GraphFixtures("gemm-bn", 20);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 7));
        String w = transB ? f.weights("w", 5, 7) : f.weights("w", 7, 5);
        Gemm op = new Gemm(1.5f, beta, false, transB);
        String fc = withC ? f.add("fc", op, "x", w, f.weights("c", 5)) : f.add("fc", op, "x", w);
        String bn = f.batchNorm("bn", fc, 5);
        try (Graph g = f.build(bn)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Gemm", 1), report.opsAfter());
                assertSameOutputs(g, opt, 3);
            }
        }
    }

    @Test
    void aBatchNormWithNoConvBeforeItBecomesADepthwiseConvThatActivationsCanFuseInto() {
        GraphFixtures f = new GraphFixtures("bn-first", 30);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String bn = f.batchNorm("bn", "x", 3);
        String r = f.add("relu", new Activation(ActivationFunction.RELU), bn);
        try (Graph g = f.build(r)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1, "Relu", 1), report.opsAfter());
                Conv depthwise = (Conv) producer(opt, "bn").op();
                assertEquals(3, depthwise.groups());
                assertEquals(Window.of(1, 1), depthwise.window());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** A conv whose output another node reads too must keep computing the unnormalised values. */
    @Test
    void aConvWhoseOutputIsReadElsewhereStaysAndTheBatchNormBecomesADepthwiseConv() {
        GraphFixtures f = new GraphFixtures("shared-output", 40);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        String c = f.conv("conv", "x", 2, 3, 3, 1, true);
        String bn = f.batchNorm("bn", c, 3);
        String sum = f.add("sum", new Binary(Binary.Kind.ADD), c, bn);
        try (Graph g = f.build(sum)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 2, "Add", 1), report.opsAfter());
                assertEquals("conv", producer(opt, "conv").name());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** Folding must not scale the shared weights in place: the other conv has its own batch-norm. */
    @Test
    void twoConvsSharingWeightsEachFoldTheirOwnBatchNorm() {
        GraphFixtures f = new GraphFixtures("shared-weights", 50);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        String w = f.weights("w", 3, 2, 3, 3);
        Conv op = new Conv(Window.square(3, 1, 1), 1);
        String bn1 = f.batchNorm("bn1", f.add("conv1", op, "x", w), 3);
        String bn2 = f.batchNorm("bn2", f.add("conv2", op, "x", w), 3);
        try (Graph g = f.build(bn1, bn2)) {
            float[] original = g.initializers().get("w").toFloatArray();
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 2), report.opsAfter());
                assertSameOutputs(g, opt, 1);
            }
            assertArrayEquals(original, g.initializers().get("w").toFloatArray());
        }
    }

    @Test
    void aBatchNormAfterAConvWithAnActivationDoesNotFoldIntoIt() {
        GraphFixtures f = new GraphFixtures("after-activation", 60);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 4, 4));
        f.builder().initializer("w", Tensor.of(Shape.of(2, 2, 1, 1), 1, -2, 0.5f, 3));
        Conv fused = new Conv(Window.of(1, 1), 1)
                .withPostOps(List.of(new PostOp.Activate(ActivationFunction.RELU)));
        String c = f.add("conv", fused, "x", "w");
        String bn = f.batchNorm("bn", c, 2);
        try (Graph g = f.build(bn)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1, "Conv", 1), report.opsAfter());
                assertEquals(2, ((Conv) producer(opt, "bn").op()).groups(), "the batch-norm became a depthwise conv");
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aBatchNormOnAMatrixWithNoGemmBeforeItStays() {
        GraphFixtures f = new GraphFixtures("matrix", 70);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4));
        try (Graph g = f.build(f.batchNorm("bn", "x", 4))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("BatchNormalization", 1), report.opsAfter());
            }
        }
    }
}
