package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Device;

import java.util.List;

/**
 * Any 2-D convolution (dense, grouped, strided, dilated) with its fused epilogue, as an implicit
 * GEMM tiled through local memory ({@code conv_gemm}); the tile sizes are the device's
 * ({@link TileSizes}).
 */
final class ConvGemmKernel implements ClKernel {
    /** Output channels and pixels per work-item of {@code conv_rows} in {@code kernels.cl}. */
    static final int ROWS_PER_ITEM = 8, PIXELS_PER_ITEM = 16;
    private final BoundNode node;
    private final Conv conv;
    private final Window window;
    private final PostOpCodes postOps;
    private final boolean localTiles;

    /**
     * Local-memory tiles on GPUs and accelerators; register blocks without barriers on CPU devices,
     * for groups of at least {@link #ROWS_PER_ITEM} output channels.
     */
    ConvGemmKernel(BoundNode node, Device.Kind device) {
        this.localTiles = device != Device.Kind.CPU
                || node.outputShape().dim(1) / ((Conv) node.op()).groups() < ROWS_PER_ITEM;
        this.node = node;
        this.conv = (Conv) node.op();
        this.window = conv.window().resolve(node.inputShape(0));
        this.postOps = PostOpCodes.of(conv.postOps());
    }

    static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Conv conv)) {
            return "not a Conv";
        }
        return PostOpCodes.unsupportedReason(conv.postOps());
    }

    @Override
    public String algorithm() {
        Shape w = node.inputShape(1);
        return w.dim(2) + "x" + w.dim(3) + " conv as implicit GEMM, "
                + (localTiles ? "tiles in local memory" : ROWS_PER_ITEM + " channels x " + PIXELS_PER_ITEM
                        + " pixels per work-item in float16 vectors, no barriers")
                + (conv.groups() > 1 ? ", " + conv.groups() + " groups" : "")
                + (conv.postOps().isEmpty() ? "" : ", epilogue " + conv.postOps());
    }

    /**
     * Work-items along the pixels for {@code conv_rows}: 16 consecutive pixels of the plane for a
     * 1x1 stride-1 convolution, else 16 of one output row.
     */
    private long cpuPixelBlocks(Shape x, Shape y) {
        boolean pointwise = window.kernelH() == 1 && window.kernelW() == 1 && window.strideH() == 1
                && window.strideW() == 1 && window.padTop() == 0 && window.padLeft() == 0
                && y.dim(2) == x.dim(2) && y.dim(3) == x.dim(3);
        return pointwise ? Math.ceilDiv((long) y.dim(2) * y.dim(3), PIXELS_PER_ITEM)
                : (long) y.dim(2) * Math.ceilDiv(y.dim(3), PIXELS_PER_ITEM);
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        Shape y = node.outputShape();
        int groups = conv.groups();
        int groupIn = node.inputShape(1).dim(1);
        int groupOut = y.dim(1) / groups;
        TileSizes t = b.context().tiles();
        long pixels = (long) y.dim(2) * y.dim(3);
        KernelCall call = new KernelCall(b.context(), localTiles ? "conv_gemm" : "conv_rows")
                .mem(b.input(0)).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.input(3))
                .mem(b.output(0))
                .i(x.dim(1)).i(x.dim(2)).i(x.dim(3)).i(y.dim(1)).i(y.dim(2)).i(y.dim(3))
                .i(groups).i(groupIn).i(groupOut).i(window.kernelH()).i(window.kernelW())
                .i(window.strideH()).i(window.strideW()).i(window.padTop()).i(window.padLeft())
                .i(window.dilationH()).i(window.dilationW())
                .postOps(postOps);
        if (localTiles) {
            call.range(new long[] {Math.ceilDiv(pixels, t.tileN()) * t.itemsN(),
                            Math.ceilDiv(groupOut, t.tileM()) * t.itemsM(), (long) x.dim(0) * groups},
                    new long[] {t.itemsN(), t.itemsM(), 1});
        } else {
            call.range(new long[] {cpuPixelBlocks(x, y), Math.ceilDiv(groupOut, ROWS_PER_ITEM),
                    (long) x.dim(0) * groups}, null);
        }
        return List.of(call);
    }
}
