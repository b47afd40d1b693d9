package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * A squeeze-excitation: the mean over the plane (oneDNN's pooling, or added up by Kiln's swish
 * that made the input: {@link SwishWithMeans}), the excitation (two 1x1 convolutions with their
 * activations; {@link KilnExcitationKernel} makes it one call of Kiln's kernel) and the gate
 * applied ({@link Gates}), or left to the one convolution that reads the output, which applies it
 * to its weights. This class is the {@code onednn-squeeze-excitation} form, with oneDNN's
 * convolutions for the excitation.
 */
class SqueezeExcitationKernel implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final BoundNode node;
    private final boolean kilnsExcitation;

    SqueezeExcitationKernel(BoundNode node) {
        this(node, false);
    }

    SqueezeExcitationKernel(BoundNode node, boolean kilnsExcitation) {
        this.node = node;
        this.kilnsExcitation = kilnsExcitation;
    }

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        SqueezeExcitation se = (SqueezeExcitation) node.op();
        BoundNode reader = gatedReader(c, node);
        if (reader == null) {
            return squeezeExcitation(c, node, se, kilnsExcitation);
        }
        c.defer(node, squeezeAndGate(c, node, se, kilnsExcitation));
        c.program.note("gate applied by " + reader.name());
        return LoweringContext.DEFERRED;
    }

    /** Null when oneDNN runs the squeeze-excitation, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof SqueezeExcitation se)) {
            return "not a SqueezeExcitation";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : !n.isConstant(1) || !n.isConstant(2) ? "weights are not constant"
                : EltwiseKernel.algorithm(se.squeezeActivation()) == null
                || EltwiseKernel.algorithm(se.gateActivation()) == null ? "activation without a oneDNN algorithm"
                : null;
    }

    /** Mean over the plane, two 1x1 convolutions with their activations, and the gate multiplied in. */
    static int squeezeExcitation(LoweringContext c, BoundNode n, SqueezeExcitation se, boolean kilnsExcitation) {
        int[] xAndGate = squeezeAndGate(c, n, se, kilnsExcitation);
        return Gates.multipliedByGate(c, n, xAndGate[0], xAndGate[1], n.inputShape(0));
    }

    /** The squeeze-excitation's input and its gate: the mean over the plane through two 1x1 convolutions. */
    static int[] squeezeAndGate(LoweringContext c, BoundNode n, SqueezeExcitation se, boolean kilnsExcitation) {
        int x = c.input(n, 0);
        int summed = SwishWithMeans.meansAddedUp(c, n, x);
        int mean = summed >= 0 ? summed : GlobalPoolingKernel.globalPool(c, n, Dnnl.POOLING_AVG_EXCLUDE_PADDING, x);
        if (kilnsExcitation) {
            return new int[]{x, excitationByKilnsKernel(c, n, se, mean)};
        }
        int squeezed = gateConvolution(c, n, mean, n.inputShape(1), 1, n.node().hasInput(3) ? 3 : -1,
                se.squeezeActivation());
        int gate = gateConvolution(c, n, squeezed, n.inputShape(2), 2, n.node().hasInput(4) ? 4 : -1,
                se.gateActivation());
        return new int[]{x, gate};
    }

    /**
     * The gate from the channel means in one call of Kiln's kernel, in place of two one-pixel
     * convolutions (two primitives of mostly call overhead). The expanding weights are kept
     * transposed, [reduced][channels], so that the kernel runs along the channels.
     */
    static int excitationByKilnsKernel(LoweringContext c, BoundNode n, SqueezeExcitation se, int mean) {
        long images = n.inputShape(0).dim(0);
        long channels = n.inputShape(0).dim(1);
        long reduced = n.inputShape(1).dim(0);
        MemorySegment meansMd = c.layouts.plain(new long[]{images, channels, 1, 1});
        int means = images == 1 && Layouts.isChannelsInOrder(c.dnnl, c.program.md(mean), channels) ? mean
                : c.layouts.as(mean, meansMd);
        int w1 = c.layouts.constant(n, 1, c.layouts.plain(new long[]{reduced, channels}),
                c.layouts.plain(new long[]{reduced, channels}));
        int w2t = c.layouts.constant(n, 2, c.layouts.plain(new long[]{channels, reduced}),
                c.layouts.strided(new long[]{channels, reduced},
                new long[]{1, channels}));
        int b1 = n.node().hasInput(3) ? c.input(n, 3) : -1;
        int b2 = n.node().hasInput(4) ? c.input(n, 4) : -1;
        int gate = c.program.activation(meansMd);
        MemorySegment activations = c.owned.allocate(6 * Float.BYTES, Float.BYTES);
        MemorySegment.copy(NativeKernels.activationCodes(se.squeezeActivation(), se.gateActivation()), 0, activations,
                ValueLayout.JAVA_FLOAT, 0, 6);
        NativeKernels kernels = c.runtime.kernelsFor(NativeKernels.Kernel.SQUEEZE_EXCITATION);
        int[] reads = Arrays.stream(new int[]{means, w1, b1, w2t, b2, gate}).filter(v -> v >= 0).toArray();
        c.program.own(n.name(), c.threads, reads, gate,
                buffers -> kernels.squeezeExcitation(buffers[means], buffers[w1], b1 < 0 ? NULL : buffers[b1],
                        buffers[w2t], b2 < 0 ? NULL : buffers[b2], buffers[gate], images, channels, reduced,
                        activations));
        c.program.note("excitation by Kiln's kernel");
        return gate;
    }

    /**
     * The convolution that can apply a squeeze-excitation's gate itself, or null: for one image,
     * a convolution of one group that is the output's only reader, whose weights hold fewer
     * values than the output. Convolving x * g is convolving x with weights W[o][c] * g[c]:
     * scaling the weights once per run moves less than multiplying the activation
     * (EfficientNet-B0's first eleven blocks: 0.3M values against 2.0M).
     */
    static BoundNode gatedReader(LoweringContext c, BoundNode n) {
        String out = n.node().output();
        if (n.inputShape(0).dim(0) != 1 || c.partitionOutputs.contains(out) || c.timesRead(out) != 1) {
            return null;
        }
        BoundNode reader = c.readers(out).getFirst();
        return reader.op() instanceof Conv conv && conv.groups() == 1 && reader.node().input(0).equals(out)
                && reader.inputShape(1).elementCount() < n.inputShape(0).elementCount() ? reader : null;
    }

    static int gateConvolution(LoweringContext c, BoundNode n, int x, Shape weights, int weightInput, int biasInput,
                                ActivationFunction activation) {
        Shape in = Shape.of(n.inputShape(0).dim(0), weights.dim(1), 1, 1);
        long[] outDims = {in.dim(0), weights.dim(0), 1, 1};
        MemorySegment biasMd = biasInput < 0 ? NULL : c.layouts.plain(new long[]{weights.dim(0)});
        MemorySegment attr = c.attr(c.postOps(n, List.of(new PostOp.Activate(activation)), -1, false));
        long[] zeros = {0, 0};
        long macs = in.dim(0) * weights.dim(0) * weights.dim(1);
        MemorySegment pd = c.stepThreads.sized(macs / c.stepThreads.macsPerMicrosecond,
                () -> c.layouts.withWeightLayout(n, "input " + weightInput,
                ValueLayouts.dims(weights), weightsMd -> c.dnnl.convolution(c.engine,
                c.layouts.any(ValueLayouts.dims(in)), weightsMd, biasMd, c.layouts.any(outDims),
                        new long[]{1, 1}, zeros, zeros, zeros, attr, c.where(n))));
        int src = c.layouts.as(x, c.dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        int w = c.layouts.constant(n, weightInput, c.layouts.plain(ValueLayouts.dims(weights)), c.dnnl.queryMd(pd,
                Dnnl.QUERY_WEIGHTS_MD, 0));
        if (biasInput < 0) {
            return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{src, w});
        }
        int bias = c.layouts.constant(n, biasInput, biasMd, biasMd);
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS}, new int[]{src, w, bias});
    }
}
