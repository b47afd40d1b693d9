package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Element-wise Add, Sub, Mul, Div, Max, Min, the {@code onednn-binary} form: oneDNN's binary primitive, broadcasting
 * the second operand.
 */
record BinaryKernel(BoundNode node) implements OneDnnKernel {
    private static final MemorySegment NULL = MemorySegment.NULL;

    @Override
    public int lower(OneDnnLowering lowering) {
        LoweringContext c = LoweringContext.of(lowering);
        BoundNode n = node;
        return binary(c, n, (Binary) n.op());
    }

    /** Null when oneDNN runs the node, else why not. */
    static String unsupportedReason(BoundNode n) {
        if (!(n.op() instanceof Binary binary)) {
            return "not a binary op";
        }
        String rank = OneDnnKernels.rankReason(n);
        if (rank != null) {
            return rank;
        }
        Shape out = n.outputShape();
        Shape a = n.inputShape(0);
        Shape b = n.inputShape(1);
        if (!a.equals(out) && !b.equals(out)) {
            return "neither operand has the output's shape (both broadcast)";
        }
        boolean commutative = switch (binary.kind()) {
            case ADD, MUL, MAX, MIN -> true;
            case SUB, DIV -> false;
        };
        if (!a.equals(out) && !commutative) {
            return "the first operand broadcasts and " + binary.kind() + " does not commute";
        }
        Shape other = a.equals(out) ? b : a;
        return other.rank() > out.rank() ? "operand of higher rank than the output" : null;
    }

    /** Element-wise with broadcasting of the second operand; a commutative op swaps a broadcast first operand. */
    static int binary(LoweringContext c, BoundNode n, Binary op) {
        Shape out = n.outputShape();
        int full = n.inputShape(0).equals(out) ? 0 : 1; // supports() let a swap through only for commutative ops
        int other = 1 - full;
        int a = c.input(n, full);
        MemorySegment first = c.program.md(a);
        Shape otherShape = n.inputShape(other);
        int b;
        if (otherShape.equals(out)) {
            // Same shape: both in one layout, so oneDNN's vectorized kernels apply.
            b = n.isConstant(other) ? c.layouts.constant(n, other, c.layouts.plain(ValueLayouts.dims(otherShape)),
                    first) : c.layouts.as(c.input(n, other), first);
        } else {
            long[] expanded = broadcastDims(otherShape, out.rank());
            b = n.isConstant(other) ? c.layouts.constant(n, other, c.layouts.plain(expanded), c.layouts.plain(expanded))
                    : otherShape.rank() == out.rank() ? c.input(n, other) : c.layouts.view(c.input(n, other),
                    otherShape, expanded);
        }
        MemorySegment pd = c.stepThreads.sized(out.elementCount() / StepThreads.ELEMENTS_PER_MICROSECOND,
                () -> c.dnnl.binary(c.engine,
                algorithm(op.kind()), first, c.program.md(b), c.layouts.any(ValueLayouts.dims(out)), c.attr(NULL),
                c.where(n)));
        return c.program.step(n, pd, new int[]{Dnnl.ARG_SRC, Dnnl.ARG_SRC_1}, new int[]{a, b});
    }

    /** A broadcast operand's dims right-aligned to the output's rank, as oneDNN wants them. */
    static long[] broadcastDims(Shape s, int rank) {
        long[] dims = new long[rank];
        Arrays.fill(dims, 1);
        for (int i = 0; i < s.rank(); i++) {
            dims[rank - s.rank() + i] = s.dim(i);
        }
        return dims;
    }

    static int algorithm(Binary.Kind kind) {
        return switch (kind) {
            case ADD -> Dnnl.BINARY_ADD;
            case SUB -> Dnnl.BINARY_SUB;
            case MUL -> Dnnl.BINARY_MUL;
            case DIV -> Dnnl.BINARY_DIV;
            case MAX -> Dnnl.BINARY_MAX;
            case MIN -> Dnnl.BINARY_MIN;
        };
    }
}
