package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;

import java.util.List;

/**
 * Ops whose output element depends on the same element of the inputs: binary arithmetic with
 * broadcasting over up to four axes ({@code binary}), a standalone activation
 * ({@code activation}) and an inference batch-norm ({@code batch_norm}). Each may write over an
 * input of the output's shape.
 */
final class ElementwiseKernel implements ClKernel {
    static final int MAX_RANK = 4;
    private final BoundNode node;

    ElementwiseKernel(BoundNode node) {
        this.node = node;
    }

    static String unsupportedReason(BoundNode node) {
        return switch (node.op()) {
            case Binary b -> node.outputShape().rank() <= MAX_RANK ? null
                    : "broadcasting over more than " + MAX_RANK + " axes is not built";
            case Activation a -> null;
            case BatchNormalization bn -> node.inputShape(0).rank() >= 2 ? null : "batch-norm without a channel axis";
            default -> "not an elementwise op (Add, Mul, ..., an activation, BatchNormalization)";
        };
    }

    @Override
    public String algorithm() {
        return switch (node.op()) {
            case Binary b -> b.kind().name().toLowerCase(java.util.Locale.ROOT) + ", one work-item per element";
            case Activation a -> a.function() + ", one work-item per element";
            default -> "batch-norm, one work-item per element";
        };
    }

    @Override
    public int inPlaceInput() {
        for (int i = 0; i < (node.op() instanceof Binary ? 2 : 1); i++) {
            if (node.inputShape(i).equals(node.outputShape())) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape y = node.outputShape();
        int count = y.elementCountInt();
        return switch (node.op()) {
            case Binary op -> List.of(new KernelCall(b.context(), "binary").mem(b.input(0)).mem(b.input(1))
                    .mem(b.output(0)).i(count).i(op.kind().ordinal()).int4(dims(y))
                    .int4(strides(node.inputShape(0), y)).int4(strides(node.inputShape(1), y))
                    .range(new long[] {count}, null));
            case Activation op -> List.of(new KernelCall(b.context(), "activation").mem(b.input(0)).mem(b.output(0))
                    .i(count).postOps(PostOpCodes.of(op.function())).range(new long[] {count}, null));
            case BatchNormalization op -> {
                int channels = y.dim(1);
                int spatial = (int) y.product(2, y.rank());
                yield List.of(new KernelCall(b.context(), "batch_norm").mem(b.input(0)).mem(b.input(1))
                        .mem(b.input(2)).mem(b.input(3)).mem(b.input(4)).mem(b.output(0)).i(channels).i(spatial)
                        .f(op.epsilon()).range(new long[] {spatial, (long) y.dim(0) * channels}, null));
            }
            default -> throw new IllegalStateException("not elementwise: " + node.node().describe());
        };
    }

    /** The output's dims, padded with leading ones to four. */
    private static int[] dims(Shape y) {
        int[] d = {1, 1, 1, 1};
        for (int i = 0; i < y.rank(); i++) {
            d[MAX_RANK - y.rank() + i] = y.dim(i);
        }
        return d;
    }

    /** Strides to read {@code operand} broadcast to {@code y}, aligned from the right: 0 where it repeats. */
    static int[] strides(Shape operand, Shape y) {
        int[] s = new int[MAX_RANK];
        int stride = 1;
        for (int i = operand.rank() - 1; i >= 0; i--) {
            int axis = MAX_RANK - (operand.rank() - i);
            s[axis] = operand.dim(i) == 1 ? 0 : stride;
            stride *= operand.dim(i);
        }
        return s;
    }
}
