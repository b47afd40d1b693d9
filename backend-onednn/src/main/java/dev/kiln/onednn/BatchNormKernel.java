package dev.kiln.onednn;

import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * Batch normalization with constant parameters, the {@code onednn-batch-normalization} form (the optimizer folds it
 * otherwise).
 */
record BatchNormKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        BatchNormalization bn = (BatchNormalization) n.op();
        int x = c.input(n, 0);
        MemorySegment md = c.program.md(x);
        long[] channels = {n.inputShape(0).dim(1)};
        MemorySegment vector = c.layouts.plain(channels);
        MemorySegment pd = c.dnnl.batchNormalization(c.engine, md, md, bn.epsilon(), c.attr(NULL), c.where(n));
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SCALE, Dnnl.ARG_SHIFT, Dnnl.ARG_MEAN,
                Dnnl.ARG_VARIANCE}, new int[]{x, c.layouts.constant(n, 1, vector, vector),
                c.layouts.constant(n, 2, vector, vector), c.layouts.constant(n, 3, vector, vector),
                c.layouts.constant(n, 4, vector, vector)});
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof BatchNormalization)) {
            return "not a BatchNormalization";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : n.inputShape(0).rank() < 2 || n.inputShape(0).rank() > 5
                ? "batch-norm of rank " + n.inputShape(0).rank()
                : IntStream.range(1, 5).allMatch(n::isConstant) ? null : "batch-norm parameters are not constant";
    }

}
