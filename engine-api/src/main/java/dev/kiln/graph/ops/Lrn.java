package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Local response normalisation across channels, as ONNX defines it:
 * y = x / (bias + alpha / size * sum of x^2 over the window of channels)^beta.
 */
public record Lrn(int size, float alpha, float beta, float bias) implements Op {

    public Lrn {
        require(size >= 1, "LRN size must be at least 1, got " + size);
    }

    @Override
    public String type() {
        return "LRN";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        require(x.rank() >= 3, "input must be [N, C, spatial...], got " + x);
        return List.of(x);
    }
}
