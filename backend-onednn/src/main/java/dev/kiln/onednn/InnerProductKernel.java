package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/**
 * A fully connected layer, the {@code onednn-inner-product} form: Gemm with B constant, no transposed A, alpha 1, an
 * optional bias row.
 */
record InnerProductKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        return innerProduct(c, n, (Gemm) n.op());
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Gemm gemm)) {
            return "not a Gemm";
        }
        String rank = OneDnnKernels.rankReason(n);
        if (rank != null) {
            return rank;
        }
        if (gemm.transA() || gemm.alpha() != 1f) {
            return "only Gemm with A untransposed and alpha 1 is an inner product";
        }
        if (!n.isConstant(1)) {
            return "B is not constant";
        }
        if (n.node().hasInput(2)) {
            Shape c = n.inputShape(2);
            int outputs = n.outputShape().dim(1);
            boolean row = c.elementCount() == outputs && (c.rank() == 1 || c.dim(0) == 1);
            if (!n.isConstant(2) || gemm.beta() != 1f || !row) {
                return "C must be a constant bias row [N] with beta 1";
            }
        }
        for (PostOp op : gemm.postOps()) {
            if (op instanceof PostOp.AddResidual) {
                return "residual add on an inner product";
            }
        }
        return OneDnnKernels.postOpsReason(gemm.postOps());
    }

    /** A fully connected layer: Gemm with B constant, no transposed A, alpha 1, an optional bias row. */
    static int innerProduct(LoweringContext c, BoundNode n, Gemm gemm) {
        Shape b = n.inputShape(1);
        long outputs = gemm.transB() ? b.dim(0) : b.dim(1);
        long inner = gemm.transB() ? b.dim(1) : b.dim(0);
        long[] weightDims = {outputs, inner};
        // B as stored is either [N, K] (transB, oneDNN's own "oi") or [K, N], read transposed through strides.
        MemorySegment stored = gemm.transB() ? c.layouts.plain(weightDims) : c.layouts.strided(weightDims,
                new long[]{1, outputs});
        boolean hasBias = n.node().hasInput(2);
        MemorySegment biasMd = hasBias ? c.layouts.plain(new long[]{outputs}) : NULL;
        MemorySegment attr = c.attr(c.postOps(n, gemm.postOps(), -1, false));
        MemorySegment pd = c.layouts.withWeightLayout(n, "input 1", weightDims,
                weightsMd -> c.dnnl.innerProduct(c.engine,
                c.layouts.any(ValueLayouts.dims(n.inputShape(0))), weightsMd, biasMd,
                c.layouts.any(ValueLayouts.dims(n.outputShape())), attr, c.where(n)));
        int src = c.layouts.as(c.input(n, 0), c.dnnl.queryMd(pd, Dnnl.QUERY_SRC_MD, 0));
        int weights = c.layouts.constant(n, 1, stored, c.dnnl.queryMd(pd, Dnnl.QUERY_WEIGHTS_MD, 0));
        if (!hasBias) {
            return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS}, new int[]{src, weights});
        }
        // C is [N] or [1, N]: the same bytes as a bias vector.
        int bias = c.layouts.constant(n, 2, biasMd, biasMd);
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS}, new int[]{src, weights,
                bias});
    }
}
