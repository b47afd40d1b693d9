package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Constant padding (ONNX Pad in {@code constant} mode): axis {@code i} of an input of rank r gets
 * {@code pads[i]} elements of {@code value} before and {@code pads[i + r]} after, ONNX's order.
 * Pads are not negative (cropping is not built).
 */
public record Pad(int[] pads, float value) implements Op {

    public Pad {
        pads = pads.clone();
        require(pads.length % 2 == 0, "pads need a begin and an end per axis, got " + Arrays.toString(pads));
        for (int p : pads) {
            require(p >= 0, "pads must not be negative, got " + Arrays.toString(pads));
        }
    }

    @Override
    public int[] pads() {
        return pads.clone();
    }

    /** Elements added before axis {@code axis}. */
    public int before(int axis) {
        return pads[axis];
    }

    /** Elements added after axis {@code axis}. */
    public int after(int axis) {
        return pads[axis + pads.length / 2];
    }

    @Override
    public String type() {
        return "Pad";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        require(x.rank() * 2 == pads.length, "pads " + Arrays.toString(pads) + " are for rank " + pads.length / 2
                + ", the input " + x + " has rank " + x.rank());
        int[] out = x.dims();
        for (int i = 0; i < out.length; i++) {
            out[i] = ShapeArithmetic.dimension("padded axis " + i, (long) out[i] + before(i) + after(i));
        }
        return List.of(Shape.of(out));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pad p && Arrays.equals(p.pads, pads) && Float.compare(p.value, value) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(pads) * 31 + Float.hashCode(value);
    }

    @Override
    public String toString() {
        return "Pad" + Arrays.toString(pads) + " value " + value;
    }
}
