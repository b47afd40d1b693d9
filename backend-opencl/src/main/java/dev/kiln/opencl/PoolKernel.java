package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;

import java.util.List;

/** Max and average pooling over a window: one work-item per output ({@code pool}). */
final class PoolKernel implements ClKernel {
    private final BoundNode node;
    private final Window window;
    private final boolean max;
    private final boolean countIncludePad;

    PoolKernel(BoundNode node) {
        this.node = node;
        this.max = node.op() instanceof MaxPool;
        Window declared = max ? ((MaxPool) node.op()).window() : ((AveragePool) node.op()).window();
        this.window = declared.resolve(node.inputShape(0));
        this.countIncludePad = !max && ((AveragePool) node.op()).countIncludePad();
    }

    static String unsupportedReason(BoundNode node) {
        Window w;
        if (node.op() instanceof MaxPool p) {
            w = p.window();
        } else if (node.op() instanceof AveragePool p) {
            w = p.window();
        } else {
            return "not a MaxPool or AveragePool";
        }
        return w.dilationH() == 1 && w.dilationW() == 1 ? null
                : "dilated pooling (" + w.dilationH() + "x" + w.dilationW() + ") is not built";
    }

    @Override
    public String algorithm() {
        return (max ? "max" : "average") + " over " + window.kernelH() + "x" + window.kernelW() + " windows";
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        Shape y = node.outputShape();
        return List.of(new KernelCall(b.context(), "pool").mem(b.input(0)).mem(b.output(0))
                .i(x.dim(2)).i(x.dim(3)).i(y.dim(2)).i(y.dim(3)).i(window.kernelH()).i(window.kernelW())
                .i(window.strideH()).i(window.strideW()).i(window.padTop()).i(window.padLeft())
                .i(window.padBottom()).i(window.padRight()).i(max ? 1 : 0).i(countIncludePad ? 1 : 0)
                .range(new long[] {(long) y.dim(2) * y.dim(3), (long) x.dim(0) * x.dim(1)}, null));
    }
}
