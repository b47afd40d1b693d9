package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.spi.BoundNode;

import java.util.List;

/** Softmax along one axis (or the flattened tail, opsets before 13): one work-item per row ({@code softmax}). */
final class SoftmaxKernel implements ClKernel {
    private final BoundNode node;

    SoftmaxKernel(BoundNode node) {
        this.node = node;
    }

    static String unsupportedReason(BoundNode node) {
        return node.op() instanceof Softmax ? null : "not a Softmax";
    }

    @Override
    public String algorithm() {
        return "one work-item per row";
    }

    @Override
    public List<Launch> bind(Binding b) {
        Softmax op = (Softmax) node.op();
        Shape x = node.inputShape(0);
        int axis = op.axis() < 0 ? op.axis() + x.rank() : op.axis();
        int outer = (int) x.product(0, axis);
        int length = op.coerceTo2d() ? (int) x.product(axis, x.rank()) : x.dim(axis);
        int inner = op.coerceTo2d() ? 1 : (int) x.product(axis + 1, x.rank());
        return List.of(new KernelCall(b.context(), "softmax").mem(b.input(0)).mem(b.output(0)).i(length).i(inner)
                .range(new long[] {inner, outer}, null));
    }
}
