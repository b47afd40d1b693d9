package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Device;
import org.jocl.cl_mem;

import java.util.List;

/**
 * Any 2-D convolution (dense, grouped, strided, dilated) with its fused epilogue, as an implicit
 * GEMM. On GPUs and accelerators it is tiled through local memory ({@code conv_gemm}, tile sizes
 * from the device's limits, {@link TileSizes}); on CPU devices it holds explicit vectors and no
 * barriers ({@code conv_pointwise_rows} for 1x1 stride 1, {@code conv_rows} for the others, and
 * for outputs too narrow to fill a vector with a row an {@code im2col} matrix multiplied by
 * {@code conv_pointwise_rows}).
 */
final class ConvGemmKernel implements ClKernel {
    /** Output channels per work-item of the CPU kernels, and pixels per vector ({@code CPU_ROWS}, float16). */
    static final int ROWS_PER_ITEM = 8, LANES = 16;
    /**
     * Outputs narrower than this leave a quarter or more of a row's vector idle (7 of 16 lanes
     * in ResNet-50's last stage), so they go through an im2col matrix whose rows are whole planes.
     */
    static final int NARROW_OUTPUT = 12;
    /**
     * Strided convolutions with at least this many input channels go through im2col too: the
     * direct form's two loads and a shuffle per window row cost more than copying the matrix
     * (measured on ResNet-50's stride-2 layers, 1.3x to 3x faster); a stem of 3 channels was
     * faster direct.
     */
    static final int STRIDED_IM2COL_CHANNELS = 16;
    /** The largest im2col matrix a workspace holds for one node, in floats (64 MiB). */
    static final long IM2COL_LIMIT = 16L << 20;

    private enum Form { TILED, POINTWISE_ROWS, ROWS, IM2COL }

    private final BoundNode node;
    private final Conv conv;
    private final Window window;
    private final PostOpCodes postOps;
    private final Form form;

    /**
     * Local-memory tiles on GPUs and accelerators, and wherever a group has fewer than
     * {@link #ROWS_PER_ITEM} output channels; the vector kernels on CPU devices.
     */
    ConvGemmKernel(BoundNode node, Device.Kind device) {
        this.node = node;
        this.conv = (Conv) node.op();
        this.window = conv.window().resolve(node.inputShape(0));
        this.postOps = PostOpCodes.of(conv.postOps());
        Shape x = node.inputShape(0), y = node.outputShape();
        boolean pointwise = window.kernelH() == 1 && window.kernelW() == 1 && window.strideH() == 1
                && window.strideW() == 1 && window.padTop() == 0 && window.padLeft() == 0
                && y.dim(2) == x.dim(2) && y.dim(3) == x.dim(3);
        if (device != Device.Kind.CPU || y.dim(1) / conv.groups() < ROWS_PER_ITEM) {
            this.form = Form.TILED;
        } else {
            this.form = pointwise ? Form.POINTWISE_ROWS : narrow(x, y) ? Form.IM2COL : Form.ROWS;
        }
    }

    private boolean narrow(Shape x, Shape y) {
        long depth = (long) x.dim(1) * window.kernelH() * window.kernelW();
        boolean strided = window.strideW() > 1 && x.dim(1) >= STRIDED_IM2COL_CHANNELS;
        return conv.groups() == 1 && (y.dim(3) < NARROW_OUTPUT || strided)
                && depth * y.dim(2) * y.dim(3) * x.dim(0) <= IM2COL_LIMIT;
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
        String how = switch (form) {
            case TILED -> "tiles in local memory";
            case POINTWISE_ROWS -> ROWS_PER_ITEM + " channels x " + 2 * LANES + " pixels per work-item in float16";
            case ROWS -> ROWS_PER_ITEM + " channels x " + LANES + " pixels of two rows per work-item in float16";
            case IM2COL -> "im2col matrix, then " + ROWS_PER_ITEM + " channels x " + 2 * LANES
                    + " pixels per work-item in float16";
        };
        return w.dim(2) + "x" + w.dim(3) + " conv as implicit GEMM, " + how
                + (conv.groups() > 1 ? ", " + conv.groups() + " groups" : "")
                + (conv.postOps().isEmpty() ? "" : ", epilogue " + conv.postOps());
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        Shape y = node.outputShape();
        int groups = conv.groups();
        int groupIn = node.inputShape(1).dim(1);
        int groupOut = y.dim(1) / groups;
        long pixels = (long) y.dim(2) * y.dim(3);
        long images = (long) x.dim(0) * groups;
        long channelBlocks = Math.ceilDiv(groupOut, ROWS_PER_ITEM);
        if (form == Form.IM2COL) {
            int depth = x.dim(1) * window.kernelH() * window.kernelW();
            cl_mem columns = b.scratch((long) x.dim(0) * depth * pixels * Float.BYTES);
            KernelCall im2col = new KernelCall(b.context(), "im2col").mem(b.input(0)).mem(columns)
                    .i(x.dim(1)).i(x.dim(2)).i(x.dim(3)).i(y.dim(2)).i(y.dim(3))
                    .i(window.kernelH()).i(window.kernelW()).i(window.strideH()).i(window.strideW())
                    .i(window.padTop()).i(window.padLeft()).i(window.dilationH()).i(window.dilationW())
                    .range(new long[] {(long) y.dim(2) * Math.ceilDiv(y.dim(3), LANES), depth, x.dim(0)}, null);
            KernelCall product = new KernelCall(b.context(), "conv_pointwise_rows")
                    .mem(columns).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.input(3))
                    .mem(b.output(0))
                    .i(depth).i(Math.toIntExact(pixels)).i(y.dim(1)).i(1).i(depth).i(groupOut)
                    .postOps(postOps)
                    .range(new long[] {channelBlocks, Math.ceilDiv(pixels, 2 * LANES), x.dim(0)}, null);
            return List.of(im2col, product);
        }
        if (form == Form.POINTWISE_ROWS) {
            return List.of(new KernelCall(b.context(), "conv_pointwise_rows")
                    .mem(b.input(0)).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.input(3))
                    .mem(b.output(0))
                    .i(x.dim(1)).i(Math.toIntExact(pixels)).i(y.dim(1)).i(groups).i(groupIn).i(groupOut)
                    .postOps(postOps)
                    .range(new long[] {channelBlocks, Math.ceilDiv(pixels, 2 * LANES), images}, null));
        }
        KernelCall call = new KernelCall(b.context(), form == Form.TILED ? "conv_gemm" : "conv_rows")
                .mem(b.input(0)).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.input(3))
                .mem(b.output(0))
                .i(x.dim(1)).i(x.dim(2)).i(x.dim(3)).i(y.dim(1)).i(y.dim(2)).i(y.dim(3))
                .i(groups).i(groupIn).i(groupOut).i(window.kernelH()).i(window.kernelW())
                .i(window.strideH()).i(window.strideW()).i(window.padTop()).i(window.padLeft())
                .i(window.dilationH()).i(window.dilationW())
                .postOps(postOps);
        if (form == Form.TILED) {
            TileSizes t = b.context().tiles();
            return List.of(call.range(new long[] {Math.ceilDiv(pixels, t.tileN()) * t.itemsN(),
                            Math.ceilDiv(groupOut, t.tileM()) * t.itemsM(), images},
                    new long[] {t.itemsN(), t.itemsM(), 1}));
        }
        return List.of(call.range(new long[] {channelBlocks,
                (long) Math.ceilDiv(y.dim(2), 2) * Math.ceilDiv(y.dim(3), LANES), images}, null));
    }
}
