package dev.kiln.graph;

import dev.kiln.Shape;

/** A named tensor value of a graph with its (possibly symbolic) shape. */
public record ValueInfo(String name, Shape shape) {
    @Override
    public String toString() {
        return name + shape;
    }
}
