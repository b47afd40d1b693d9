package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * 2-D convolution, NCHW. Inputs: X [N, C, H, W], W [M, C/groups, kH, kW], optional bias B [M],
 * and, when the epilogue has an {@link PostOp.AddResidual}, the residual R [N, M, OH, OW] as
 * input 3. Groups cover grouped and depthwise convolution (groups == C).
 *
 * <p>With post-ops this is the fused form the optimizer produces: batch-norm already folded
 * into W and B, then activations and a residual add in epilogue order.
 */
public record Conv(Window window, int groups, List<PostOp> postOps) implements Op {

    public Conv {
        require(groups >= 1, "groups must be at least 1, got " + groups);
        postOps = List.copyOf(postOps);
        require(postOps.stream().filter(p -> p instanceof PostOp.AddResidual).count() <= 1,
                "at most one residual add per convolution");
    }

    public Conv(Window window, int groups) {
        this(window, groups, List.of());
    }

    public boolean hasResidual() {
        return postOps.stream().anyMatch(p -> p instanceof PostOp.AddResidual);
    }

    public Conv withPostOps(List<PostOp> ops) {
        return new Conv(window, groups, ops);
    }

    @Override
    public String type() {
        return postOps.isEmpty() ? "Conv" : "FusedConv";
    }

    /** The bias stays optional with a residual: input 2 may be absent ("") while input 3 is given. */
    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return hasResidual() ? 4 : 3;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.get(0);
        Shape w = in.get(1);
        require(x.rank() == 4, "input must be NCHW (rank 4), got " + x);
        require(w.rank() == 4, "weights must be [M, C/groups, kH, kW], got " + w);
        int channels = x.dim(1);
        int outChannels = w.dim(0);
        require(channels % groups == 0 && w.dim(1) * groups == channels, "input has " + channels
                + " channels but weights " + w + " with groups " + groups + " expect " + w.dim(1) * groups);
        require(outChannels % groups == 0, outChannels + " output channels do not divide into " + groups + " groups");
        require(w.dim(2) == window.kernelH() && w.dim(3) == window.kernelW(), "weights " + w
                + " do not match kernel " + window.kernelH() + "x" + window.kernelW());
        Shape bias = in.size() > 2 ? in.get(2) : null;
        require(bias == null || (bias.rank() == 1 && bias.dim(0) == outChannels),
                "bias must be [" + outChannels + "], got " + bias);
        Shape out = window.outputShape(x, outChannels, false);
        if (hasResidual()) {
            require(in.size() > 3 && in.get(3) != null && in.get(3).equals(out), "residual must have the output's shape " + out
                    + ", got " + in.get(3));
        }
        return List.of(out);
    }

    @Override
    public long macs(List<Shape> in, List<Shape> out) {
        Shape w = in.get(1);
        return ShapeArithmetic.product("multiply-accumulates", out.getFirst().elementCount(), w.dim(1), w.dim(2),
                w.dim(3));
    }
}
