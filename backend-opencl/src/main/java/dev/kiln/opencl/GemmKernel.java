package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Device;

import java.util.List;

/**
 * Gemm (the fully connected layers) with its activations: a work-group per output element
 * shares the dot product ({@code gemm_dot}), so that at batch 1, where the layer is a
 * matrix-vector product bound by reading the weights, neighbouring work-items read
 * neighbouring weights.
 */
final class GemmKernel implements ClKernel {
    private final BoundNode node;
    private final Gemm gemm;
    private final PostOpCodes postOps;
    private final boolean vectorDot;

    /** On CPU devices one work-item per output with a vector dot product; elsewhere a work-group per output. */
    GemmKernel(BoundNode node, Device.Kind device) {
        this.vectorDot = device == Device.Kind.CPU;
        this.node = node;
        this.gemm = (Gemm) node.op();
        this.postOps = PostOpCodes.of(gemm.postOps());
    }

    static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Gemm gemm)) {
            return "not a Gemm";
        }
        List<PostOp> postOps = gemm.postOps();
        return PostOpCodes.unsupportedReason(postOps);
    }

    @Override
    public String algorithm() {
        return (vectorDot ? "dot product per output in float16 vectors" : "dot product per output shared by a work-group") + (gemm.postOps().isEmpty() ? ""
                : ", epilogue " + gemm.postOps());
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape a = node.inputShape(0);
        Shape y = node.outputShape();
        int rows = y.dim(0), cols = y.dim(1);
        int depth = gemm.transA() ? a.dim(0) : a.dim(1);
        int rowStride = 0, colStride = 0;
        if (b.hasInput(2)) {
            // C broadcasts to [rows, cols] from the right: a vector is a row, a 1-sized axis repeats.
            Shape c = node.inputShape(2);
            int cRows = c.rank() == 2 ? c.dim(0) : 1;
            int cCols = c.rank() >= 1 ? c.dim(c.rank() - 1) : 1;
            colStride = cCols == 1 ? 0 : 1;
            rowStride = cRows == 1 ? 0 : cCols;
        }
        int reduction = b.context().tiles().reduction();
        KernelCall call = new KernelCall(b.context(), vectorDot ? "gemm_vector" : "gemm_dot")
                .mem(b.input(0)).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.output(0))
                .i(rows).i(cols).i(depth).i(gemm.transA() ? 1 : 0).i(gemm.transB() ? 1 : 0).i(rowStride).i(colStride)
                .f(gemm.alpha()).f(gemm.beta())
                .postOps(postOps);
        return List.of(vectorDot ? call.range(new long[] {cols, rows}, null)
                : call.range(new long[] {(long) cols * reduction, rows}, new long[] {reduction, 1}));
    }
}
