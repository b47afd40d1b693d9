package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/** 2-D max pooling, NCHW; padded positions never win. */
public record MaxPool(Window window, boolean ceilMode) implements Op {

    @Override
    public String type() {
        return "MaxPool";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        require(x.rank() == 4, "input must be NCHW (rank 4), got " + x);
        Window w = window.resolve(x);
        w.requirePadsSmallerThanKernel();
        w.requireEveryWindowOnInput(x.dim(2), x.dim(3), ceilMode);
        return List.of(window.outputShape(x, x.dim(1), ceilMode));
    }
}
