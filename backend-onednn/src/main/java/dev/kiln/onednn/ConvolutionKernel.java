package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.nativelib.NativeCallException;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * A convolution as oneDNN's primitive with its epilogue as post-ops (the {@code onednn-convolution}
 * form); with {@link KilnSwishConvolutionKernel} a final swish is left to Kiln's kernel after it.
 * Its input may be a squeeze-excitation's output whose gate it applies itself ({@link Gates}).
 */
class ConvolutionKernel implements OneDnnKernel {
    /** The values from which kernels.c runs its pass on every thread (its PARALLEL_FROM). */
    private static final long KERNEL_FROM_VALUES = 16_384;
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final BoundNode node;
    private final boolean swishByKiln;

    ConvolutionKernel(BoundNode node) {
        this(node, false);
    }

    ConvolutionKernel(BoundNode node, boolean swishByKiln) {
        this.node = node;
        this.swishByKiln = swishByKiln;
    }

    @Override
    public int lower(OneDnnLowering lowering) {
        return convolution(LoweringContext.of(lowering), node, (Conv) node.op(), swishByKiln);
    }

    /** Null when oneDNN runs the convolution, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Conv conv)) {
            return "not a Conv";
        }
        String rank = OneDnnKernels.rankReason(n);
        if (rank != null) {
            return rank;
        }
        if (!n.isConstant(1)) {
            return "weights are not constant";
        }
        if (n.node().hasInput(2) && !n.isConstant(2)) {
            return "bias is not constant";
        }
        Shape in = n.inputShape(0);
        String strides = in.rank() == 4 ? SinglePositionStrides.reason(conv.window().resolve(in), in, n.outputShape())
                : null;
        return strides != null ? strides : OneDnnKernels.postOpsReason(conv.postOps());
    }

    /**
     * A convolution with its epilogue as post-ops. A residual read for the last time is added by a
     * sum post-op: the convolution writes into the residual's own buffer and adds what is there
     * (ResNet-50's 1x1 convolutions ending a block, relu after the add: 570 -> 495 us at 56x56,
     * 597 -> 515 at 28x28, 524 -> 485 at 14x14, 643 -> 611 at 7x7, timed interleaved). Otherwise
     * it is a binary-add post-op reading the residual in its own layout.
     */
    static int convolution(LoweringContext c, BoundNode n, Conv conv, boolean swishAfter) {
        int[] gate = c.gated.remove(n.node().input(0));
        int x = gate == null ? c.input(n, 0) : gate[0];
        int residual = conv.hasResidual() ? c.input(n, 3) : -1;
        boolean sum = residual >= 0 && c.isLastReadBy(n, residual, x);
        boolean hasBias = n.node().hasInput(2);
        List<PostOp> postOps = swishAfter ? conv.postOps().subList(0, conv.postOps().size() - 1) : conv.postOps();
        Shape weightShape = n.inputShape(1);
        Shape in = n.inputShape(0);
        Window w = conv.window().resolve(n.inputShape(0));
        int groups = conv.groups();
        long outChannels = weightShape.dim(0);
        long[] plainWeights = groups == 1 ? ValueLayouts.dims(weightShape)
                : new long[]{groups, outChannels / groups, weightShape.dim(1), weightShape.dim(2), weightShape.dim(3)};
        long[] outDims = ValueLayouts.dims(n.outputShape());
        MemorySegment biasMd = hasBias ? c.layouts.plain(new long[]{outChannels}) : NULL;
        long macs = n.outputShape().elementCount() * weightShape.dim(1) * weightShape.dim(2) * weightShape.dim(3);
        // A grouped (depthwise) convolution does a few multiply-adds per element it moves: its bytes set its time.
        long micros = groups == 1 ? macs / c.stepThreads.macsPerMicrosecond
                : Math.max(macs / c.stepThreads.macsPerMicrosecond,
                (in.elementCount() + n.outputShape().elementCount()) / StepThreads.ELEMENTS_PER_MICROSECOND);
        long[] strides = {w.strideH(), w.strideW()};
        long[] padEnd = {w.padBottom(), w.padRight()};
        SinglePositionStrides.apply(w, in, n.outputShape(), strides, padEnd);
        // Along a kernel axis of size 1 a dilation spaces nothing; oneDNN 3.13's brg_conv_fwd:avx512_core
        // crashed (SIGSEGV in perform_outwork) on a dilated 1x1 convolution of a padded [1,9,1,1] input with
        // stride 2 (fuzz finding onednn-dilated-1x1-crash), so such an axis is described undilated.
        long[] dilations = {w.kernelH() == 1 ? 0 : w.dilationH() - 1, w.kernelW() == 1 ? 0 : w.dilationW() - 1};
        IntFunction<Describe> reading = r -> (srcMd, weightsMd, inPlace) -> c.dnnl.convolution(c.engine, srcMd,
                weightsMd, biasMd, inPlace ? c.layouts.residualLayout(r, n.outputShape()) : c.layouts.any(outDims),
                strides, dilations, new long[]{w.padTop(), w.padLeft()}, padEnd,
                c.attr(c.postOps(n, postOps, r, inPlace)), c.where(n));
        Describe describe = reading.apply(residual);
        MemorySegment image = c.program.md(x);
        MemorySegment srcMd = isImageBeforePooling(c, n, in, image)
                && c.stepThreads.isFast(() -> describe.create(image, c.layouts.any(plainWeights), false)) ? image
                : c.layouts.any(ValueLayouts.dims(in));
        MemorySegment pd = c.stepThreads.sized(micros, () -> c.layouts.withWeightLayout(n, "input 1", plainWeights,
                weightsMd -> describe.create(srcMd, weightsMd, false)));
        if (sum) {
            MemorySegment summing = summingInPlace(c, pd, c.program.md(residual), () -> c.stepThreads.sized(micros,
                    () -> c.layouts.withWeightLayout(n, "input 1", plainWeights,
                            weightsMd -> describe.create(srcMd, weightsMd, true))));
            sum = summing != null;
            if (sum) {
                c.stepThreads.discard(pd);
                pd = summing;
            }
        }
        if (residual >= 0 && !sum && c.dnnl.implementation(pd).startsWith("ref")) {
            // A residual in another layout than the output (plain, having crossed from another backend)
            // leaves oneDNN only its reference convolution for the binary add that reads it: 20.7 ms for
            // one of EfficientNet-B0's 1x1s with its first blocks pinned to cpu-simd, against 0.3. Read
            // it reordered into the output's layout instead, where that finds a faster implementation.
            int reordered = c.layouts.as(residual, c.dnnl.queryMd(pd, Dnnl.QUERY_DST_MD, 0));
            MemorySegment retried = c.stepThreads.sized(micros, () -> c.layouts.withWeightLayout(n, "input 1",
                    plainWeights, weightsMd -> reading.apply(reordered).create(srcMd, weightsMd, false)));
            if (c.dnnl.implementation(retried).startsWith("ref")) {
                c.stepThreads.discard(retried);
            } else {
                c.stepThreads.discard(pd);
                pd = retried;
                residual = reordered;
            }
        }
        int weights = c.layouts.constant(n, 1, c.layouts.plain(plainWeights), c.dnnl.queryMd(pd,
                Dnnl.QUERY_WEIGHTS_MD, 0));
        if (gate != null) {
            int scaled = Gates.weightsScaledByGate(c, n, weights, gate[1], in.dim(1));
            if (scaled >= 0) {
                weights = scaled;
            } else {
                x = Gates.multipliedByGate(c, n, x, gate[1], in);
            }
        }
        int src = c.layouts.as(x, c.dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        List<Integer> kinds = new ArrayList<>(List.of(Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS));
        List<Integer> args = new ArrayList<>(List.of(src, weights));
        if (hasBias) {
            kinds.add(Dnnl.ARG_BIAS);
            args.add(c.layouts.constant(n, 2, biasMd, biasMd));
        }
        int output;
        if (sum) {
            output = c.program.stepInto(n, pd, c.ints(kinds), c.ints(args), residual);
            c.program.note("residual summed in place");
        } else {
            c.addResidualArg(postOps, residual, kinds, args);
            output = c.program.step(n, pd, c.ints(kinds), c.ints(args));
        }
        return swishAfter ? swishedInPlace(c, n, output) : output;
    }

    /**
     * Whether a convolution's epilogue ends with a swish that Kiln's kernel computes after it, in
     * place, instead of oneDNN's post-op: with the kernels loaded, on an output large enough for
     * the pass to run on every thread (EfficientNet-B0's expansions and depthwise convolutions;
     * not its squeeze-excitation's 1x1 ones).
     */
    static boolean isSwishForKilnsKernel(OneDnnRuntime runtime, List<PostOp> ops, Shape output) {
        return runtime.kernelsFor(NativeKernels.Kernel.SWISH) != null && !ops.isEmpty()
                && ops.getLast() instanceof PostOp.Activate a && a.function().kind() == ActivationFunction.Kind.SILU
                && output.elementCount() >= KERNEL_FROM_VALUES;
    }

    /** A step after the last one: Kiln's swish over {@code value}'s storage; the result is a view of it. */
    static int swishedInPlace(LoweringContext c, BoundNode n, int value) {
        Program.Value v = c.program.value(value);
        c.program.values.add(new Program.Value(v.md(), v.bytes(), v.root(), NULL));
        int output = c.program.values.size() - 1;
        long floats = v.bytes() / Float.BYTES;
        NativeKernels kernels = c.runtime.kernelsFor(NativeKernels.Kernel.SWISH);
        c.program.own(n.name(), c.program.steps.getLast().threads(), new int[]{value, output}, output,
                buffers -> kernels.swish(buffers[output], floats));
        c.program.note("swish by Kiln's " + kernels.isa().label + " kernel");
        c.swished = output;
        return output;
    }

    /**
     * The convolution described by {@code create}, which sums into the residual, when it is the
     * same as {@code adding} (which adds it with a binary post-op): the layout {@code adding}
     * chose for its output is the residual's and the implementation is the same; else null. A
     * residual in another layout (a blocked one) would make the convolution write that layout,
     * on a slower implementation than brgconv.
     */
    static MemorySegment summingInPlace(LoweringContext c, MemorySegment adding, MemorySegment residual,
                                         Supplier<MemorySegment> create) {
        if (!c.dnnl.memoryDescEqual(c.dnnl.queryMd(adding, Dnnl.QUERY_DST_MD, 0), residual)) {
            return null;
        }
        MemorySegment summing;
        try {
            summing = create.get();
        } catch (NativeCallException e) {
            return null;
        }
        if (!c.dnnl.implementation(summing).equals(c.dnnl.implementation(adding))) {
            c.stepThreads.discard(summing);
            return null;
        }
        return summing;
    }

    private interface Describe {
        MemorySegment create(MemorySegment srcMd, MemorySegment weightsMd, boolean sumInPlace);
    }

    /**
     * Whether a convolution reads the model's image as it came (plain NCHW, an image's few
     * channels) and only poolings read what it writes. oneDNN's direct convolution then reads the
     * image without the reorder to channels-last and writes its blocked layout, faster than brgconv
     * on three channels; the pooling keeps that layout and the reorder to channels-last happens on
     * its output, a quarter of the size (ResNet-50's and GoogLeNet's 7x7 stem with its max pool:
     * 0.93 ms against 1.19 with the image reorder, primitives timed interleaved). Without the
     * pooling the reorder of the convolution's output costs more than it saves (VGG-16,
     * MobileNet v1: whole-model A/B 1.00-1.02; ResNet-50 0.989, GoogLeNet 0.984 with it). Only
     * convolutions may read the pooling, each as its source (see below).
     */
    static boolean isImageBeforePooling(LoweringContext c, BoundNode n, Shape in, MemorySegment src) {
        String out = n.node().output();
        return n.op() instanceof Conv conv && conv.groups() == 1 && in.dim(1) <= 4 && !c.partitionOutputs.contains(out)
                && Layouts.tag(c.dnnl, src).equals("abcd")
                && c.readers(out).stream().allMatch(r -> (r.op() instanceof MaxPool || r.op() instanceof AveragePool)
                && isReadOnlyAsConvolutionSource(c, r.node().output()));
    }

    /**
     * Whether only convolutions read {@code value}, each as its source: they take it in the layout
     * they choose, through one reorder for all. A residual in the blocked layout would instead
     * pull its convolution into that layout, onto a slower implementation (ResNet-18's first
     * block after its max pool: direct convolutions to {@code aBcd16b} in place of brgconv).
     */
    static boolean isReadOnlyAsConvolutionSource(LoweringContext c, String value) {
        return !c.partitionOutputs.contains(value) && c.readers(value).stream().allMatch(r -> r.op() instanceof Conv
                && r.node().inputs().indexOf(value) == 0 && r.node().inputs().lastIndexOf(value) == 0);
    }
}
