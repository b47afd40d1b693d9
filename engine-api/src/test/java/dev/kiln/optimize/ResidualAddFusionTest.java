package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ResidualAddFusionTest {
    private static final Binary ADD = new Binary(Binary.Kind.ADD);
    private final Pass pass = new ResidualAddFusion();

    @ParameterizedTest(name = "conv output as Add input {0}")
    @ValueSource(ints = {0, 1})
    void fusesTheShortcutAddIntoTheConv(int convOperand) {
        GraphFixtures f = new GraphFixtures("residual", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 5, 5));
        String c = f.conv("conv", "x", 4, 4, 3, 1, true);
        String sum = convOperand == 0 ? f.add("add", ADD, c, "x") : f.add("add", ADD, "x", c);
        try (Graph g = f.build(sum)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1), report.opsAfter());
                Node fused = producer(opt, "add");
                assertEquals(List.of(new PostOp.AddResidual()), ((Conv) fused.op()).postOps());
                assertEquals("x", fused.input(3));
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aConvWithoutBiasGetsAZeroOneBeforeTheResidual() {
        GraphFixtures f = new GraphFixtures("no-bias", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String c = f.conv("conv", "x", 3, 3, 1, 1, false);
        try (Graph g = f.build(f.add("add", ADD, c, "x"))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** A ResNet block with a projection shortcut: both operands are convs; the main branch's absorbs the Add. */
    @Test
    void whenBothOperandsAreConvsTheLaterOneFuses() {
        GraphFixtures f = new GraphFixtures("projection", 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 6, 6));
        String shortcut = f.conv("shortcut", "x", 2, 4, 1, 1, true);
        String main = f.conv("main", "x", 2, 4, 3, 1, true);
        try (Graph g = f.build(f.add("add", ADD, shortcut, main))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1, "FusedConv", 1), report.opsAfter());
                Node fused = producer(opt, "add");
                assertEquals("main", fused.name());
                assertEquals("shortcut", fused.input(3));
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** Post-ops apply in order: relu(conv) + x stays relu-then-add. */
    @Test
    void aConvThatAlreadyHasAnActivationTakesTheAddAfterIt() {
        GraphFixtures f = new GraphFixtures("after-relu", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        f.builder().initializer("w", Tensor.of(Shape.of(3, 3, 1, 1), 1, -1, 0.5f, 0.25f, 2, -0.5f, -1, 0, 1));
        Conv withRelu = new Conv(Window.of(1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU)));
        String c = f.add("conv", withRelu, "x", "w");
        try (Graph g = f.build(f.add("add", ADD, "x", c))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(List.of(new PostOp.Activate(ActivationFunction.RELU), new PostOp.AddResidual()),
                        ((Conv) producer(opt, "add").op()).postOps());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** Found by kiln fuzz: cpu-simd's kernels read a fused constant residual as a missing activation. */
    @Test
    void aConstantAddendIsNotAResidual() {
        GraphFixtures f = new GraphFixtures("constant", 6);
        f.builder().input("x", Shape.of(1, 1, 2, 2));
        f.builder().initializer("k", Tensor.of(Shape.of(1, 1, 2, 2), 1, -2, 3, -4));
        String c = f.conv("conv", "x", 1, 1, 1, 1, true);
        try (Graph g = f.build(f.add("add", ADD, "k", c))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(0, report.rewrites().get(pass.name()));
                assertSameOutputs(g, opt, 1);
            }
        }
    }

    @Test
    void aBroadcastOperandIsNotAResidual() {
        GraphFixtures f = new GraphFixtures("broadcast", 5);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String c = f.conv("conv", "x", 3, 3, 1, 1, true);
        String perChannel = f.weights("per_channel", 1, 3, 1, 1);
        try (Graph g = f.build(f.add("add", ADD, c, perChannel))) {
            assertEquals(counts("Conv", 1, "Add", 1), runPassAndClose(g));
        }
    }

    /** [1, C, H, W] equals the output's shape at batch 1, but not at batch 2. */
    @Test
    void anOperandWithABatchOfOneIsNotAResidualWhenTheBatchIsSymbolic() {
        GraphFixtures f = new GraphFixtures("batch-one", 6);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String c = f.conv("conv", "x", 3, 3, 1, 1, true);
        String constant = f.weights("bias_image", 1, 3, 4, 4);
        try (Graph g = f.build(f.add("add", ADD, c, constant))) {
            assertEquals(counts("Conv", 1, "Add", 1), runPassAndClose(g));
        }
    }

    @Test
    void aConvWhoseOutputIsReadTwiceDoesNotFuse() {
        GraphFixtures f = new GraphFixtures("twice", 7);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String c = f.conv("conv", "x", 3, 3, 1, 1, true);
        try (Graph g = f.build(f.add("add", ADD, c, c))) {
            assertEquals(counts("Conv", 1, "Add", 1), runPassAndClose(g));
        }
    }

    @Test
    void aConvWithAResidualAlreadyDoesNotTakeASecond() {
        GraphFixtures f = new GraphFixtures("second", 8);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String c = f.conv("conv", "x", 3, 3, 1, 1, true);
        String first = f.add("add1", ADD, c, "x");
        String second = f.add("add2", ADD, first, "x");
        try (Graph g = f.build(second)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 1, "Add", 1), report.opsAfter());
                assertFalse(producer(opt, "add2").op() instanceof Conv);
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** The op counts after the pass, for tests that expect it to change nothing. */
    private Map<String, Integer> runPassAndClose(Graph g) {
        OptimizationReport report = runPass(pass, g);
        report.graph().close();
        return report.opsAfter();
    }
}
