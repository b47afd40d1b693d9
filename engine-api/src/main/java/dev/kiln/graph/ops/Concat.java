package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/** Concatenation along one axis (negative counts from the end). */
public record Concat(int axis) implements Op {

    @Override
    public String type() {
        return "Concat";
    }

    @Override
    public int maxInputs() {
        return Integer.MAX_VALUE;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape first = in.getFirst();
        int a = Op.normalizeAxis(axis, first.rank(), "concat");
        long total = 0;
        for (Shape s : in) {
            require(s.rank() == first.rank(), "inputs differ in rank: " + first + " and " + s);
            for (int d = 0; d < s.rank(); d++) {
                require(d == a || s.dim(d) == first.dim(d), "inputs " + first + " and " + s
                        + " differ outside the concat axis " + a);
            }
            total += s.dim(a);
        }
        return List.of(first.withDim(a, ShapeArithmetic.dimension("the concatenated axis " + a, total)));
    }
}
