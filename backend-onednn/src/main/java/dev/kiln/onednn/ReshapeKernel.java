package dev.kiln.onednn;

import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.spi.BoundNode;

/**
 * Flatten and Reshape, the {@code onednn-reshape} form: a view of the plain layout (a reorder to it first when the
 * value is blocked).
 */
record ReshapeKernel(BoundNode node) implements OneDnnKernel {
    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        int view = c.layouts.view(c.input(n, 0), n.inputShape(0), ValueLayouts.dims(n.outputShape()));
        c.program.note("view");
        return view;
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        return n.op() instanceof Flatten || n.op() instanceof Reshape ? OneDnnKernels.rankReason(n)
                : "not a Flatten or Reshape";
    }

}
