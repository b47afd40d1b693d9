package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.nativelib.NativeCallException;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/**
 * A squeeze-excitation's gate applied to what it scales: multiplied into the activation (a 1x1
 * depthwise convolution whose weights are the gate, else a broadcast multiply), or, by a
 * convolution that reads the gated value, into that convolution's weights.
 */
final class Gates {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private Gates() {
    }

    /** {@code x} times the per-channel {@code gate}, as the squeeze-excitation defines its output. */
    static int multipliedByGate(LoweringContext c, BoundNode n, int x, int gate, Shape xs) {
        if (xs.dim(0) == 1 && Layouts.tag(c.dnnl, c.program.md(x)).equals("acdb")) {
            int scaled = gateAsDepthwiseWeights(c, n, x, gate, xs);
            if (scaled >= 0) {
                return scaled;
            }
        }
        MemorySegment pd = c.stepThreads.sized(xs.elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                () -> c.dnnl.binary(c.engine,
                Dnnl.BINARY_MUL, c.program.md(x), c.program.md(gate), c.layouts.any(ValueLayouts.dims(xs)),
                c.attr(NULL), c.where(n)));
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{x, gate});
    }

    /**
     * For one image, the gate multiplied in as a 1x1 depthwise convolution whose weights are the
     * gate itself, read where the gate convolution wrote it: oneDNN's broadcast multiply ran at
     * ~20 GB/s and slower on few channels, the depthwise kernel takes 0.65 ms per EfficientNet-B0
     * run for all 16 against 0.85 (verbose exec times, three A/B pairs; all primitives 6.0-6.3 ms
     * against 6.8-7.2). Taken for a channels-last input (what was measured; from plain NCHW oneDNN
     * picks a GEMM-based convolution), when the layout oneDNN wants for those weights holds exactly
     * the gate's channels in order (one channel dimension, no padding), and by a non-reference
     * kernel; otherwise -1.
     */
    static int gateAsDepthwiseWeights(LoweringContext c, BoundNode n, int x, int gate, Shape xs) {
        long channels = xs.dim(1);
        long[] zeros = {0, 0};
        MemorySegment pd;
        try {
            pd = c.stepThreads.sized(xs.elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                    () -> c.dnnl.convolution(c.engine,
                    c.program.md(x), c.layouts.any(new long[]{channels, 1, 1, 1, 1}), NULL,
                    c.layouts.any(ValueLayouts.dims(xs)), new long[]{1, 1},
                    zeros, zeros, zeros, c.attr(NULL), c.where(n)));
        } catch (NativeCallException e) {
            return -1;
        }
        MemorySegment weights = c.dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0);
        if (c.dnnl.implementation(pd).startsWith("ref") || !Layouts.isChannelsInOrder(c.dnnl, weights, channels)
                || !Layouts.isChannelsInOrder(c.dnnl, c.program.md(gate), channels)) {
            c.stepThreads.discard(pd);
            return -1;
        }
        c.program.note("gate multiplied as depthwise weights");
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{x, c.program.alias(gate,
                c.layouts.clone(weights))});
    }

    /**
     * Convolution weights {@code w} (in the layout their primitive chose) times {@code gate}
     * along the input channels, computed each run into a buffer the convolution reads as its
     * weights; -1 when the layout does not allow it. The layout must keep each input channel's
     * values in runs of equal length, channel after channel: then the weights are a plain
     * [outer, channels, inner] array and the gate a [1, channels, 1] one, which oneDNN's binary
     * multiply broadcasts.
     */
    static int weightsScaledByGate(LoweringContext c, BoundNode n, int w, int gate, long channels) {
        MemorySegment md = c.program.md(w);
        long inner = Layouts.innerRunPerChannel(c.dnnl, md, channels);
        if (inner < 0 || !Layouts.isChannelsInOrder(c.dnnl, c.program.md(gate), channels)) {
            return -1;
        }
        long elements = c.dnnl.memoryDescSize(md) / Float.BYTES;
        MemorySegment weights = c.layouts.plain(new long[]{elements / (channels * inner), channels, inner});
        MemorySegment gates = c.layouts.plain(new long[]{1, channels, 1});
        MemorySegment pd = c.stepThreads.sized(elements / StepThreads.ELEMENTS_PER_MICROSECOND,
                () -> c.dnnl.binary(c.engine, Dnnl.BINARY_MUL,
                weights, gates, weights, c.attr(NULL), c.where(n)));
        if (c.dnnl.implementation(pd).startsWith("ref")) {
            c.stepThreads.discard(pd);
            return -1;
        }
        c.program.note("weights scaled by the gate");
        int scaled = c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{c.program.alias(w,
                weights),
                c.program.alias(gate, gates)});
        return c.program.alias(scaled, md);
    }
}
