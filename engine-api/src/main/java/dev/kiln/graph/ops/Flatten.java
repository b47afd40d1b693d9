package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/** [d0 .. dn) to [d0 * .. * d(axis-1), d(axis) * .. * d(n-1)]; a view, no data moves. */
public record Flatten(int axis) implements Op {

    @Override
    public String type() {
        return "Flatten";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        int a = axis < 0 ? axis + x.rank() : axis;
        Op.require(a >= 0 && a <= x.rank(), "flatten axis " + axis + " is out of range for " + x);
        return List.of(Shape.of(ShapeArithmetic.dimension("the flattened outer axis", x.product(0, a)),
                ShapeArithmetic.dimension("the flattened inner axis", x.product(a, x.rank()))));
    }
}
