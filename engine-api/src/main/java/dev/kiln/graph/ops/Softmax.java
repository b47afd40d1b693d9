package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/**
 * Softmax along {@code axis} (opset 13 and later). With {@code coerceTo2d} it follows opsets
 * 1 to 12: the input is viewed as [d0*..*d(axis-1), d(axis)*..] and normalised over the second
 * axis.
 */
public record Softmax(int axis, boolean coerceTo2d) implements Op {

    public Softmax(int axis) {
        this(axis, false);
    }

    @Override
    public String type() {
        return "Softmax";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        Op.normalizeAxis(axis, x.rank(), "softmax");
        return List.of(x);
    }
}
