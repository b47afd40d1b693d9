package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Squeeze-and-excitation as one op: each channel of X is scaled by a gate computed from the
 * mean of all channels, y = x * gate(W2 * squeeze(W1 * mean_hw(x) + B1) + B2), with the gate
 * broadcast over height and width. The optimizer produces it from the unfused chain
 * GlobalAveragePool, 1x1 Conv, activation, 1x1 Conv, gate activation, Mul, so that a backend
 * can run the block as one kernel instead of five small ones.
 *
 * <p>Inputs: X [N, C, H, W], W1 [R, C, 1, 1], W2 [C, R, 1, 1], then the optional biases
 * B1 [R] and B2 [C] (an absent one is the empty name).
 */
public record SqueezeExcitation(ActivationFunction squeezeActivation, ActivationFunction gateActivation)
        implements Op {

    @Override
    public String type() {
        return "SqueezeExcitation";
    }

    @Override
    public int minInputs() {
        return 3;
    }

    @Override
    public int maxInputs() {
        return 5;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.get(0);
        Shape w1 = in.get(1);
        Shape w2 = in.get(2);
        require(x.rank() == 4, "input must be NCHW (rank 4), got " + x);
        int channels = x.dim(1);
        require(w1.rank() == 4 && w1.dim(1) == channels && w1.dim(2) == 1 && w1.dim(3) == 1,
                "squeeze weights must be [R, " + channels + ", 1, 1], got " + w1);
        int reduced = w1.dim(0);
        require(w2.equals(Shape.of(channels, reduced, 1, 1)),
                "excitation weights must be [" + channels + ", " + reduced + ", 1, 1], got " + w2);
        Shape b1 = in.size() > 3 ? in.get(3) : null;
        require(b1 == null || b1.equals(Shape.of(reduced)), "squeeze bias must be [" + reduced + "], got " + b1);
        Shape b2 = in.size() > 4 ? in.get(4) : null;
        require(b2 == null || b2.equals(Shape.of(channels)), "excitation bias must be [" + channels + "], got " + b2);
        return List.of(x);
    }

    @Override
    public long macs(List<Shape> in, List<Shape> out) {
        Shape x = in.getFirst();
        long reduced = in.get(1).dim(0);
        return ShapeArithmetic.product("multiply-accumulates", x.dim(0), 2, reduced, x.dim(1));
    }
}
