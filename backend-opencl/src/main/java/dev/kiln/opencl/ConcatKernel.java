package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import dev.kiln.spi.BoundNode;

import java.util.ArrayList;
import java.util.List;

/** Concatenation: each input copied into its place in the output, one launch per input ({@code copy_blocks}). */
final class ConcatKernel implements ClKernel {
    private final BoundNode node;
    private final int axis;

    ConcatKernel(BoundNode node) {
        this.node = node;
        int a = ((Concat) node.op()).axis();
        this.axis = a < 0 ? a + node.outputShape().rank() : a;
    }

    static String unsupportedReason(BoundNode node) {
        return node.op() instanceof Concat ? null : "not a Concat";
    }

    @Override
    public String algorithm() {
        return node.inputShapes().size() + " inputs copied along axis " + axis;
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape y = node.outputShape();
        int outer = (int) y.product(0, axis);
        int inner = (int) y.product(axis + 1, y.rank());
        int outBlock = y.dim(axis) * inner;
        List<Launch> launches = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < node.inputShapes().size(); i++) {
            int block = node.inputShape(i).dim(axis) * inner;
            if (block > 0 && outer > 0) {
                launches.add(new KernelCall(b.context(), "copy_blocks").mem(b.input(i)).mem(b.output(0))
                        .i(block).i(outBlock).i(offset).range(new long[] {block, outer}, null));
            }
            offset += block;
        }
        return launches;
    }
}
