package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/**
 * Global max or average pooling of a 4-D value, the {@code onednn-global-pooling} form: a pooling whose window is
 * the plane.
 */
record GlobalPoolingKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        GlobalPool pool = (GlobalPool) n.op();
        return globalPool(c, n, pool.kind() == GlobalPool.Kind.MAX ? Dnnl.POOLING_MAX
                : Dnnl.POOLING_AVG_EXCLUDE_PADDING, c.input(n, 0));
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof GlobalPool)) {
            return "not a GlobalPool";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : n.inputShape(0).rank() == 4 ? null : "global pooling of rank "
                + n.inputShape(0).rank();
    }

    static int globalPool(LoweringContext c, BoundNode n, int algorithm, int x) {
        Shape in = n.inputShape(0);
        long[] outDims = {in.dim(0), in.dim(1), 1, 1};
        MemorySegment pd = c.stepThreads.sized(in.elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                () -> c.dnnl.pooling(c.engine, algorithm,
                c.program.md(x), c.layouts.any(outDims), new long[]{1, 1}, new long[]{in.dim(2), in.dim(3)},
                new long[]{0, 0}, new long[]{0, 0}, new long[]{0, 0}, c.attr(NULL), c.where(n)));
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }
}
