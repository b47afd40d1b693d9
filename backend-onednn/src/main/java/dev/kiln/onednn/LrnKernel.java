package dev.kiln.onednn;

import dev.kiln.graph.ops.Lrn;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/** Local response normalization across channels of odd size, the {@code onednn-lrn} form. */
record LrnKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        Lrn lrn = (Lrn) n.op();
        int x = c.input(n, 0);
        MemorySegment md = c.program.md(x);
        return c.program.step(n, c.dnnl.lrn(c.engine, md, md, lrn.size(), lrn.alpha(), lrn.beta(), lrn.bias(),
                c.attr(NULL), c.where(n)), new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Lrn lrn)) {
            return "not an LRN";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : n.inputShape(0).rank() != 4 ? "LRN of rank " + n.inputShape(0).rank()
                : lrn.size() % 2 == 0 ? "LRN of even size " + lrn.size() + ": oneDNN's window is (size - 1) / 2"
                + " channels either side, ONNX's reaches one channel further up" : null;
    }

}
