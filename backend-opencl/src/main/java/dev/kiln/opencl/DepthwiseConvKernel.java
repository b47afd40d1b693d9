package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Device;

import java.util.List;

/**
 * A depthwise convolution (one input channel per output channel, as MobileNet's and
 * EfficientNet's blocks have) with its epilogue: one work-item per output element
 * ({@code conv_depthwise}); there is no reduction over channels to tile.
 */
final class DepthwiseConvKernel implements ClKernel {
    private final BoundNode node;
    private final Conv conv;
    private final Window window;
    private final PostOpCodes postOps;
    private final boolean vectorRows;

    /** On CPU devices 16 outputs of a row per work-item in a vector; elsewhere one output per work-item. */
    DepthwiseConvKernel(BoundNode node, Device.Kind device) {
        this.vectorRows = device == Device.Kind.CPU;
        this.node = node;
        this.conv = (Conv) node.op();
        this.window = conv.window().resolve(node.inputShape(0));
        this.postOps = PostOpCodes.of(conv.postOps());
    }

    static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Conv conv)) {
            return "not a Conv";
        }
        int channels = node.inputShape(0).dim(1);
        if (conv.groups() != channels || node.outputShape().dim(1) != channels) {
            return "not depthwise: " + conv.groups() + " groups for " + channels + " input and "
                    + node.outputShape().dim(1) + " output channels";
        }
        return PostOpCodes.unsupportedReason(conv.postOps());
    }

    @Override
    public String algorithm() {
        return window.kernelH() + "x" + window.kernelW() + " depthwise, "
                + (vectorRows ? "16 outputs of a row per work-item in a float16 vector" : "one work-item per output")
                + (conv.postOps().isEmpty() ? "" : ", epilogue " + conv.postOps());
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        Shape y = node.outputShape();
        long[] range = vectorRows
                ? new long[] {(long) y.dim(2) * Math.ceilDiv(y.dim(3), 16), x.dim(1), x.dim(0)}
                : new long[] {(long) y.dim(2) * y.dim(3), x.dim(1), x.dim(0)};
        return List.of(new KernelCall(b.context(), vectorRows ? "conv_depthwise_rows" : "conv_depthwise")
                .mem(b.input(0)).mem(b.input(1)).mem(b.input(2)).i(b.hasInput(2) ? 1 : 0).mem(b.input(3))
                .mem(b.output(0))
                .i(x.dim(1)).i(x.dim(2)).i(x.dim(3)).i(y.dim(2)).i(y.dim(3)).i(window.kernelH()).i(window.kernelW())
                .i(window.strideH()).i(window.strideW()).i(window.padTop()).i(window.padLeft())
                .i(window.dilationH()).i(window.dilationW())
                .postOps(postOps)
                .range(range, null));
    }
}
