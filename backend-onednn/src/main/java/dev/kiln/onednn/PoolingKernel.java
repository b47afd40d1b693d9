package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/** Max and average pooling, the {@code onednn-pooling} form; oneDNN has no ceil mode, so its end padding is extended.
 * */
record PoolingKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        return switch (n.op()) {
            case MaxPool pool -> pooling(c, n, Dnnl.POOLING_MAX, pool.window().resolve(n.inputShape(0)),
                    pool.ceilMode(),
                    c.input(n, 0), n.outputShape());
            case AveragePool pool -> pooling(c, n, pool.countIncludePad() ? Dnnl.POOLING_AVG_INCLUDE_PADDING
                            : Dnnl.POOLING_AVG_EXCLUDE_PADDING, pool.window().resolve(n.inputShape(0)),
                    pool.ceilMode(), c.input(n, 0), n.outputShape());
            default -> throw new IllegalStateException("not a pooling: " + n.node().describe());
        };
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        String rank = OneDnnKernels.rankReason(n);
        return switch (n.op()) {
            case MaxPool pool -> rank;
            case AveragePool pool -> rank != null ? rank
                    : pool.countIncludePad() && pool.ceilMode() && overhangs(n, pool.window())
                    ? "ceil mode with padding counted: the extra ceil-mode window positions must not count, and oneDNN"
                    + " would count them" : null;
            default -> "not a MaxPool or AveragePool";
        };
    }

    static int pooling(LoweringContext c, BoundNode n, int algorithm, Window w, boolean ceilMode, int x, Shape out) {
        Shape in = n.inputShape(0);
        long[] padR = {w.padBottom(), w.padRight()};
        if (ceilMode) {
            // oneDNN has no ceil mode: extend the end padding so its floor formula gives the ceil-mode size.
            padR[0] = Math.max(padR[0], endPadding(in.dim(2), out.dim(2), w.kernelH(), w.strideH(), w.padTop(),
                    w.dilationH()));
            padR[1] = Math.max(padR[1], endPadding(in.dim(3), out.dim(3), w.kernelW(), w.strideW(), w.padLeft(),
                    w.dilationW()));
        }
        MemorySegment pd = c.stepThreads.sized(in.elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                () -> c.dnnl.pooling(c.engine, algorithm,
                c.program.md(x), c.layouts.any(ValueLayouts.dims(out)), new long[]{w.strideH(), w.strideW()},
                new long[]{w.kernelH(), w.kernelW()}, new long[]{w.dilationH() - 1, w.dilationW() - 1},
                new long[]{w.padTop(), w.padLeft()}, padR, c.attr(NULL), c.where(n)));
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    static long endPadding(int in, int out, int kernel, int stride, int padBegin, int dilation) {
        return (long) (out - 1) * stride + (long) (kernel - 1) * dilation + 1 - in - padBegin;
    }

    private static boolean overhangs(BoundNode n, Window window) {
        Window w = window.resolve(n.inputShape(0));
        Shape in = n.inputShape(0);
        Shape out = n.outputShape();
        return endPadding(in.dim(2), out.dim(2), w.kernelH(), w.strideH(), w.padTop(), w.dilationH()) > w.padBottom()
                || endPadding(in.dim(3), out.dim(3), w.kernelW(), w.strideW(), w.padLeft(), w.dilationW())
                > w.padRight();
    }
}
