package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/** Pooling over all spatial positions: [N, C, ...] to [N, C, 1, ...]. */
public record GlobalPool(Kind kind) implements Op {

    public enum Kind { AVERAGE, MAX }

    public static final GlobalPool AVERAGE = new GlobalPool(Kind.AVERAGE);
    public static final GlobalPool MAX = new GlobalPool(Kind.MAX);

    @Override
    public String type() {
        return kind == Kind.AVERAGE ? "GlobalAveragePool" : "GlobalMaxPool";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        require(x.rank() >= 3, "input must be [N, C, spatial...], got " + x);
        int[] d = x.dims();
        for (int i = 2; i < d.length; i++) {
            d[i] = 1;
        }
        return List.of(Shape.of(d));
    }
}
