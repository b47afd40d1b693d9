package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;

import java.util.List;

/**
 * The fused squeeze-and-excitation block as four launches on the device: the mean of each
 * plane, the squeeze and excitation 1x1 products with their activations (in a scratch buffer
 * of the workspace), and the planes scaled by the gate. Nothing goes back to the host.
 */
final class SqueezeExcitationKernel implements ClKernel {
    private final BoundNode node;
    private final SqueezeExcitation se;

    SqueezeExcitationKernel(BoundNode node) {
        this.node = node;
        this.se = (SqueezeExcitation) node.op();
    }

    static String unsupportedReason(BoundNode node) {
        return node.op() instanceof SqueezeExcitation ? null : "not a SqueezeExcitation";
    }

    @Override
    public String algorithm() {
        return "plane means, squeeze " + se.squeezeActivation() + " and gate " + se.gateActivation()
                + " on the device, planes scaled by the gate";
    }

    @Override
    public List<Launch> bind(Binding b) {
        Shape x = node.inputShape(0);
        int batch = x.dim(0), channels = x.dim(1), spatial = (int) x.product(2, 4);
        int reduced = node.inputShape(1).dim(0);
        var pooled = b.scratch((long) batch * channels * Float.BYTES);
        var squeezed = b.scratch((long) batch * reduced * Float.BYTES);
        var gate = b.scratch((long) batch * channels * Float.BYTES);
        OpenClContext c = b.context();
        return List.of(
                new KernelCall(c, "global_pool").mem(b.input(0)).mem(pooled).i(spatial).i(0)
                        .range(new long[] {(long) batch * channels}, null),
                new KernelCall(c, "pointwise_vector").mem(pooled).mem(b.input(1)).mem(b.input(3))
                        .i(b.hasInput(3) ? 1 : 0).mem(squeezed).i(channels).i(reduced)
                        .postOps(PostOpCodes.of(se.squeezeActivation()))
                        .range(new long[] {reduced, batch}, null),
                new KernelCall(c, "pointwise_vector").mem(squeezed).mem(b.input(2)).mem(b.input(4))
                        .i(b.hasInput(4) ? 1 : 0).mem(gate).i(reduced).i(channels)
                        .postOps(PostOpCodes.of(se.gateActivation()))
                        .range(new long[] {channels, batch}, null),
                new KernelCall(c, "scale_planes").mem(b.input(0)).mem(gate).mem(b.output(0)).i(spatial)
                        .range(new long[] {spatial, (long) batch * channels}, null));
    }
}
