package dev.kiln.onednn;

import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * A 3x3 convolution of stride 1 as Winograd F(2x2, 3x3) ({@link WinogradF2x3}), the
 * {@code onednn-winograd-convolution} form: Kiln's input transform, oneDNN's batched matmul over
 * the 16 positions, Kiln's output transform. Where its input arrives gated by a squeeze-excitation
 * it is a {@link ConvolutionKernel}, which applies the gate.
 */
final class WinogradConvolutionKernel implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final BoundNode node;

    WinogradConvolutionKernel(BoundNode node) {
        this.node = node;
    }

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        Conv conv = (Conv) node.op();
        if (c.gated.containsKey(node.node().input(0))) {
            return ConvolutionKernel.convolution(c, node, conv, false);
        }
        WinogradChoice.Mode mode = WinogradChoice.Mode.configured();
        String how = "by the rule";
        if (mode == WinogradChoice.Mode.TIMED) {
            WinogradChoice.Choice choice = timedChoice(c, node, conv);
            if (!choice.winograd()) {
                c.program.note("direct, " + choice.how());
                return ConvolutionKernel.convolution(c, node, conv, false);
            }
            how = choice.how();
        }
        int x = c.input(node, 0);
        int residual = conv.hasResidual() ? c.input(node, 3) : -1;
        int y = winogradConvolution(c, node, conv, x, residual, mode.maxTransformedBytes(), how);
        if (y < 0) {
            throw new IllegalStateException("the Winograd form refused " + node.node().describe() + " at lowering,"
                    + " although it said it runs it");
        }
        return y;
    }

    /**
     * The form {@link WinogradChoice} times (or finds timed) for the node, on the oneDNN thread
     * with the engine's threads in force, as the lowering runs.
     */
    private static WinogradChoice.Choice timedChoice(LoweringContext c, BoundNode n, Conv conv) {
        WinogradF2x3 f = WinogradF2x3.of(conv, n.inputShape(0), n.inputShape(1), n.outputShape(),
                WinogradChoice.Mode.TIMED.maxTransformedBytes());
        boolean ruleTakesIt = WinogradF2x3.of(conv, n.inputShape(0), n.inputShape(1), n.outputShape()) != null;
        return WinogradChoice.choose(c.dnnl, c.engine, c.runtime.kernelsFor(NativeKernels.Kernel.WINOGRAD),
                c.threads, c.stepThreads.macsPerMicrosecond, f, n.node().hasInput(2), conv.hasResidual(),
                ruleTakesIt);
    }

    /**
     * Null when the convolution may run as Winograd here: what the convolution needs, Kiln's
     * Winograd kernels loaded, an epilogue of an optional residual then nothing, relu or clip,
     * and a shape the direct convolution does not do better ({@link WinogradF2x3#of}) or, under
     * {@code -Dkiln.onednn.winograd=timed}, one that is timed at lowering ({@link WinogradChoice}),
     * which may still lower it directly.
     */
    static String unsupportedReason(BoundNode n) {
        String conv = ConvolutionKernel.unsupportedReason(n);
        if (conv != null) {
            return conv;
        }
        Conv c = (Conv) n.op();
        OneDnnRuntime runtime = OneDnnRuntime.get().runtime();
        if (runtime == null || runtime.kernelsFor(NativeKernels.Kernel.WINOGRAD) == null) {
            return "Kiln's Winograd kernels are not loaded";
        }
        if (clampOf(c.postOps(), c.hasResidual()) == null) {
            return "an epilogue other than a residual then nothing, relu or clip";
        }
        WinogradChoice.Mode mode = WinogradChoice.Mode.configured();
        if (mode == WinogradChoice.Mode.OFF) {
            return "off by -D" + WinogradChoice.PROPERTY + "=off";
        }
        return WinogradF2x3.of(c, n.inputShape(0), n.inputShape(1), n.outputShape(), mode.maxTransformedBytes()) == null
                ? "not a 3x3 convolution of stride 1 where Winograd beats the direct one" : null;
    }

    /**
     * A 3x3 convolution of stride 1 as Winograd F(2x2, 3x3) ({@link WinogradF2x3}): Kiln's input
     * transform, oneDNN's batched matmul over the 16 positions, and Kiln's output transform with
     * the bias, the residual (written over it where it is read for the last time, as a sum
     * post-op would) and a clamp (none, relu or clip). -1 when the convolution does not take it:
     * no kernels, another epilogue, or a shape beyond {@code maxTransformedBytes} ({@link WinogradF2x3#of}).
     */
    static int winogradConvolution(LoweringContext c, BoundNode n, Conv conv, int x, int residual,
                                   long maxTransformedBytes, String how) {
        float[] clamp = clampOf(conv.postOps(), residual >= 0);
        NativeKernels kernels = c.runtime.kernelsFor(NativeKernels.Kernel.WINOGRAD);
        WinogradF2x3 f = kernels == null || clamp == null ? null
                : WinogradF2x3.of(conv, n.inputShape(0), n.inputShape(1), n.outputShape(), maxTransformedBytes);
        if (f == null || !n.isConstant(1)) {
            return -1;
        }
        MemorySegment channelsLast = c.layouts.channelsLast(n.inputShape(0));
        long[] vDims = {WinogradF2x3.POSITIONS, f.tiles(), f.channels()};
        long[] mDims = {WinogradF2x3.POSITIONS, f.tiles(), f.outChannels()};
        long[] uDims = {WinogradF2x3.POSITIONS, f.channels(), f.outChannels()};
        String weights = "input 1 as Winograd F(2x2,3x3) weights";
        // The matmul's multiply-adds and the values the transforms move, on one core: the three
        // steps run on the thread count this gives the matmul, and shared they pay for three
        // forks and joins, so a third of it is weighed against one.
        long micros = WinogradF2x3.POSITIONS * f.tiles() * f.channels() * f.outChannels() / c.stepThreads.macsPerMicrosecond
                + WinogradF2x3.POSITIONS * f.tiles() * (f.channels()
                + f.outChannels()) / StepThreads.ELEMENTS_PER_MICROSECOND;
        MemorySegment pd = c.stepThreads.sized(micros / 3, () -> c.layouts.withWeightLayout(n, weights, uDims,
                uMd -> c.dnnl.matmul(c.engine,
                c.layouts.plain(vDims), uMd, c.layouts.plain(mDims), c.attr(NULL), c.where(n))));
        int matmulThreads = c.stepThreads.threadsOf(pd);
        MemorySegment shape = f.toNative(c.owned);
        int src = c.layouts.as(x, channelsLast);
        int v = c.program.activation(c.layouts.plain(vDims));
        c.program.own(n.name(), matmulThreads, new int[]{src, v}, v,
                buffers -> kernels.winogradInput(buffers[src], buffers[v], f, shape));
        int u = c.layouts.prepared(n, weights, c.dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0), (md, data) -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment transformed = arena.allocate(f.weightsBytes(), 64);
                f.transformWeights(n.constant(1).segment(), transformed);
                c.runtime.reorderNow(c.layouts.plain(uDims), transformed, md, data, "preparing the Winograd weights of "
                        + n.node().describe());
            }
        });
        c.program.note("Winograd F(2x2,3x3) by Kiln's transforms, " + how);
        int m = c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{v, u});
        int bias = n.node().hasInput(2) ? c.input(n, 2) : -1;
        MemorySegment outChannelsLast = c.layouts.channelsLast(n.outputShape());
        boolean inPlace = residual >= 0 && c.isLastReadBy(n, residual, x)
                && c.dnnl.memoryDescEqual(c.program.md(residual), outChannelsLast);
        int added = residual < 0 || inPlace ? residual : c.layouts.as(residual, outChannelsLast);
        int y = inPlace ? c.program.alias(residual, outChannelsLast) : c.program.activation(outChannelsLast);
        if (inPlace) {
            c.program.note("residual added in place");
        }
        int[] reads = Arrays.stream(new int[]{m, bias, added, y}).filter(value -> value >= 0).toArray();
        c.program.own(n.name(), matmulThreads, reads, y,
                buffers -> kernels.winogradOutput(buffers[m], buffers[y], bias < 0 ? NULL : buffers[bias],
                        added < 0 ? NULL : buffers[added], clamp[0], clamp[1], f, shape));
        return y;
    }

    /**
     * The epilogue as the clamp [low, high] the Winograd output transform applies after the
     * residual (which must then come first), or null when it is another.
     */
    static float[] clampOf(List<PostOp> epilogue, boolean residual) {
        if (residual && (epilogue.isEmpty() || !(epilogue.getFirst() instanceof PostOp.AddResidual))) {
            return null;
        }
        List<PostOp> ops = residual ? epilogue.subList(1, epilogue.size()) : epilogue;
        if (ops.isEmpty()) {
            return new float[]{Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        }
        if (ops.size() == 1 && ops.getFirst() instanceof PostOp.Activate a) {
            return switch (a.function().kind()) {
                case RELU -> new float[]{0, Float.POSITIVE_INFINITY};
                case CLIP -> new float[]{a.function().alpha(), a.function().beta()};
                default -> null;
            };
        }
        return null;
    }
}
