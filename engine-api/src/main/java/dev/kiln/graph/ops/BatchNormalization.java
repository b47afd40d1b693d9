package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Inference batch-norm over axis 1: y = scale * (x - mean) / sqrt(var + epsilon) + bias.
 * Inputs: X [N, C, ...], scale, bias, mean, var (each [C]).
 */
public record BatchNormalization(float epsilon) implements Op {

    public static final float DEFAULT_EPSILON = 1e-5f;

    @Override
    public String type() {
        return "BatchNormalization";
    }

    @Override
    public int minInputs() {
        return 5;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.get(0);
        require(x.rank() >= 2, "input must have a channel axis, got " + x);
        for (int i = 1; i < 5; i++) {
            require(in.get(i).rank() == 1 && in.get(i).dim(0) == x.dim(1),
                    "parameter " + i + " must be [" + x.dim(1) + "], got " + in.get(i));
        }
        return List.of(x);
    }
}
