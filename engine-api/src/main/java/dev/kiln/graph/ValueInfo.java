package dev.kiln.graph;

import dev.kiln.ElementType;
import dev.kiln.Shape;

/**
 * A named tensor value of a graph with its (possibly symbolic) shape: a dimension of
 * {@link Shape#DYNAMIC} ({@code -1}, printed {@code ?}) is open, which for a CNN's inputs and
 * outputs is the batch axis (axis 0).
 */
public record ValueInfo(String name, Shape shape) {
    /** Always {@link ElementType#FLOAT32}: Kiln computes in 32-bit floats only. */
    public ElementType elementType() {
        return ElementType.FLOAT32;
    }

    /** Whether axis 0 is open: the value takes any batch size. */
    public boolean hasBatchAxis() {
        return shape.rank() > 0 && shape.dim(0) == Shape.DYNAMIC;
    }

    @Override
    public String toString() {
        return name + shape;
    }
}
