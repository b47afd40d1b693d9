package dev.kiln.onednn;

import dev.kiln.graph.ops.Concat;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/** Concatenation along one axis, the {@code onednn-concat} form, sized by the values it moves. */
record ConcatKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        return concat(c, n, (Concat) n.op());
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        return n.op() instanceof Concat ? OneDnnKernels.rankReason(n) : "not a Concat";
    }

    static int concat(LoweringContext c, BoundNode n, Concat concat) {
        int count = n.node().inputs().size();
        MemorySegment[] sources = new MemorySegment[count];
        int[] kinds = new int[count];
        int[] args = new int[count];
        for (int i = 0; i < count; i++) {
            args[i] = c.input(n, i);
            sources[i] = c.program.md(args[i]);
            kinds[i] = Dnnl.ARG_MULTIPLE_SRC + i;
        }
        int axis = Math.floorMod(concat.axis(), n.outputShape().rank());
        return c.program.step(n,
                c.stepThreads.sized(n.outputShape().elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                        () -> c.dnnl.concat(c.engine,
                c.layouts.any(ValueLayouts.dims(n.outputShape())), sources, axis, c.attr(NULL), c.where(n))), kinds,
                args);
    }
}
