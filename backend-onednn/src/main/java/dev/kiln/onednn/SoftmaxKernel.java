package dev.kiln.onednn;

import dev.kiln.graph.ops.Softmax;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/** Softmax over one axis, the {@code onednn-softmax} form. */
record SoftmaxKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        int x = c.input(n, 0);
        MemorySegment md = c.program.md(x);
        int axis = Math.floorMod(((Softmax) n.op()).axis(), n.inputShape(0).rank());
        return c.program.step(n, c.dnnl.softmax(c.engine, md, c.layouts.any(ValueLayouts.dims(n.outputShape())), axis,
                c.attr(NULL), c.where(n)), new int[]{Dnnl.ARG_SRC}, new int[]{x});
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Softmax softmax)) {
            return "not a Softmax";
        }
        String rank = OneDnnKernels.rankReason(n);
        return rank != null ? rank : softmax.coerceTo2d() && Math.floorMod(softmax.axis(), n.inputShape(0).rank())
                != n.inputShape(0).rank() - 1 ? "opset < 13 softmax over flattened trailing axes" : null;
    }

}
