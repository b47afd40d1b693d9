package dev.kiln.cpusimd;

import dev.kiln.spi.PreparedWeights;
import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.cpusimd.KernelHarness.absent;
import static dev.kiln.cpusimd.KernelHarness.check;
import static dev.kiln.cpusimd.KernelHarness.constant;
import static dev.kiln.cpusimd.KernelHarness.input;
import static dev.kiln.cpusimd.KernelHarness.uniform;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class DepthwiseConvKernelTest {
    static final List<ActivationFunction> EVERY_ACTIVATION = List.of(ActivationFunction.RELU,
            ActivationFunction.RELU6, ActivationFunction.clip(0.25f, 0.75f), ActivationFunction.SIGMOID,
            ActivationFunction.SILU, ActivationFunction.hardSigmoid(0.2f, 0.5f), ActivationFunction.HARD_SWISH,
            ActivationFunction.leakyRelu(0.1f), ActivationFunction.TANH);

    private static void run(int batch, int channels, int height, int width, Window window, boolean bias,
                            List<PostOp> postOps, long seed) {
        Conv conv = new Conv(window, channels, postOps);
        Shape xs = Shape.of(batch, channels, height, width);
        Shape ys = window.outputShape(xs, channels, false);
        int kernel = window.kernelH() * window.kernelW();
        List<KernelHarness.Operand> operands = new ArrayList<>(List.of(
                input(xs, uniform(KernelHarness.count(xs), seed)),
                constant(Shape.of(channels, 1, window.kernelH(), window.kernelW()),
                        uniform(channels * kernel, seed + 1)),
                bias ? constant(Shape.of(channels), uniform(channels, seed + 2)) : absent()));
        if (conv.hasResidual()) {
            operands.add(input(ys, uniform(KernelHarness.count(ys), seed + 3)));
        }
        // Both register files' forms at this JVM's width (the module's tests run at three).
        for (RegisterTiles registers : List.of(RegisterTiles.THIRTY_TWO, RegisterTiles.SIXTEEN)) {
            check(conv, n -> new DepthwiseConvKernel(n, PreparedWeights.unshared(), registers), 1e-5,
                    operands.toArray(KernelHarness.Operand[]::new));
        }
    }

    @Test
    void threeByThreeStrideOneSamePadding() {
        run(1, 20, 7, 9, Window.square(3, 1, 1), true, List.of(), 1);
    }

    @Test
    void threeByThreeStrideTwoAsymmetricPadsOverABatch() {
        run(3, 35, 7, 9, Window.of(3, 3).withStrides(2, 2).withPads(0, 1, 1, 0), true, List.of(), 2);
        run(2, 35, 8, 10, Window.of(3, 3).withStrides(2, 2).withPads(0, 0, 1, 1), false, List.of(), 3);
    }

    /** Rows wide enough for the groups of eight interior pixels, with a remainder after them. */
    @Test
    void wideRowsMixGroupsOfPixelsWithSinglePixels() {
        run(1, 20, 5, 29, Window.square(3, 1, 1), true, List.of(new PostOp.Activate(ActivationFunction.RELU6)), 40);
        run(2, 35, 6, 37, Window.square(3, 2, 1), true, List.of(new PostOp.AddResidual()), 41);
        run(1, 17, 7, 30, Window.square(5, 1, 2), false, List.of(new PostOp.Activate(ActivationFunction.SILU)), 42);
        run(1, 16, 4, 27, Window.of(3, 3).withPads(1, 2, 1, 2).withDilations(1, 2), true, List.of(), 43);
    }

    /**
     * The sliding groups (3 and 5 wide, strides 1 and 2, inputs of a filter row loaded once for
     * eight outputs), each with a remainder group that overlaps the one before, asymmetric pads,
     * a dilated height, an activation that moves zero and channels that end inside a block.
     */
    @Test
    void slidingGroupsAtStridesOneAndTwo() {
        PostOp relu6 = new PostOp.Activate(ActivationFunction.RELU6);
        PostOp sigmoid = new PostOp.Activate(ActivationFunction.SIGMOID);
        run(2, 20, 6, 27, Window.of(3, 3).withPads(2, 1, 0, 1).withDilations(2, 1), true, List.of(relu6), 44);
        run(1, 35, 7, 41, Window.of(3, 3).withStrides(2, 2).withPads(1, 1, 0, 0), true, List.of(relu6), 45);
        run(1, 17, 8, 45, Window.of(5, 5).withStrides(2, 2).withPads(2, 1, 2, 2), false, List.of(sigmoid), 46);
        run(1, 33, 5, 26, Window.of(5, 5).withPads(1, 2, 2, 1), true, List.of(new PostOp.Activate(
                ActivationFunction.clip(0.5f, 2f))), 47);
    }

    /**
     * At least four channel blocks: rows too narrow for groups of pixels (a network's 7x7 stage)
     * go four blocks at a time, the blocks past the last whole four one by one; wide rows do not.
     */
    @Test
    void narrowRowsGoFourChannelBlocksAtATime() {
        PostOp relu6 = new PostOp.Activate(ActivationFunction.RELU6);
        run(2, 70, 7, 7, Window.square(3, 1, 1), true, List.of(relu6), 48); // 5 blocks: 4 together, 1 alone
        run(1, 64, 7, 6, Window.square(5, 1, 2), true, List.of(new PostOp.Activate(ActivationFunction.SILU)), 49);
        run(1, 131, 9, 5, Window.of(3, 3).withStrides(2, 2).withPads(0, 1, 1, 0), false, List.of(
                new PostOp.Activate(ActivationFunction.SIGMOID), new PostOp.AddResidual()), 50);
        run(1, 60, 4, 7, Window.of(3, 3).withPads(2, 2, 2, 2).withDilations(2, 2), true, List.of(), 51);
        // Wide rows with four blocks or more: groups of pixels block by block.
        run(1, 64, 6, 20, Window.square(3, 1, 1), true, List.of(relu6), 52);
        run(2, 70, 9, 23, Window.square(5, 2, 2), true, List.of(new PostOp.Activate(ActivationFunction.SILU)), 53);
    }

    @Test
    void fiveByFiveStridesOneAndTwo() {
        run(1, 35, 9, 7, Window.square(5, 1, 2), true, List.of(), 4);
        run(2, 20, 9, 11, Window.square(5, 2, 2), true, List.of(), 5);
    }

    @Test
    void nonSquareKernelsStridesAndDilation() {
        run(1, 20, 7, 9, Window.of(3, 3).withPads(2, 2, 2, 2).withDilations(2, 2), true, List.of(), 6);
        run(1, 17, 11, 9, Window.of(3, 5).withStrides(1, 3).withPads(1, 2, 0, 1).withDilations(2, 1), true,
                List.of(), 7);
        run(1, 16, 3, 4, Window.square(5, 1, 2), true, List.of(), 8); // no interior column at all
        run(1, 16, 6, 6, Window.square(3, 1, 0), false, List.of(), 9); // no border at all
    }

    @Test
    void everyActivationAsAPostOpKeepsPaddingZero() {
        long seed = 10;
        for (ActivationFunction f : EVERY_ACTIVATION) {
            run(1, 20, 7, 9, Window.square(3, 1, 1), true, List.of(new PostOp.Activate(f)), seed++);
        }
    }

    @Test
    void residualAddBeforeAndAfterActivations() {
        PostOp relu = new PostOp.Activate(ActivationFunction.RELU);
        PostOp sigmoid = new PostOp.Activate(ActivationFunction.SIGMOID);
        run(3, 35, 7, 9, Window.square(3, 1, 1), true, List.of(relu, new PostOp.AddResidual()), 30);
        run(1, 35, 7, 9, Window.square(3, 1, 1), false, List.of(new PostOp.AddResidual(), sigmoid), 31);
        run(1, 20, 7, 9, Window.square(3, 2, 1), true, List.of(relu, new PostOp.AddResidual(), sigmoid), 32);
    }

    @Test
    void supportsOnlyDepthwiseWithConstantWeights() {
        Conv depthwise = new Conv(Window.square(3, 1, 1), 8);
        assertNull(DepthwiseConvKernel.unsupportedReason(bound(depthwise, 8, 1, true)));
        assertNotNull(DepthwiseConvKernel.unsupportedReason(bound(depthwise, 8, 1, false)));
        assertNotNull(DepthwiseConvKernel.unsupportedReason(bound(new Conv(Window.square(3, 1, 1), 1), 8, 8, true)));
    }

    private static dev.kiln.spi.BoundNode bound(Conv conv, int channels, int weightInputs, boolean constantWeights) {
        Shape xs = Shape.of(1, channels, 5, 5), ws = Shape.of(channels, weightInputs, 3, 3);
        List<Shape> shapes = List.of(xs, ws);
        dev.kiln.Tensor w = constantWeights ? dev.kiln.Tensor.allocate(ws) : null;
        return new dev.kiln.spi.BoundNode(new dev.kiln.graph.Node("n", conv, List.of("x", "w"), List.of("y")),
                shapes, conv.inferShapes(shapes), java.util.Arrays.asList(null, w));
    }
}
