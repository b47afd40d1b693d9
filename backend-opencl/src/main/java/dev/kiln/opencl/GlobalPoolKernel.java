package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.spi.BoundNode;

import java.util.List;

/** Global average or max pooling: one work-item per plane ({@code global_pool}). */
final class GlobalPoolKernel implements ClKernel {
    private final BoundNode node;
    private final boolean max;

    GlobalPoolKernel(BoundNode node) {
        this.node = node;
        this.max = ((GlobalPool) node.op()).kind() == GlobalPool.Kind.MAX;
    }

    static String unsupportedReason(BoundNode node) {
        return node.op() instanceof GlobalPool ? null : "not a GlobalPool";
    }

    @Override
    public String algorithm() {
        return (max ? "max" : "mean") + " of each plane";
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        return List.of(new KernelCall(b.context(), "global_pool").mem(b.input(0)).mem(b.output(0))
                .i((int) x.product(2, x.rank())).i(max ? 1 : 0)
                .range(new long[] {(long) x.dim(0) * x.dim(1)}, null));
    }
}
