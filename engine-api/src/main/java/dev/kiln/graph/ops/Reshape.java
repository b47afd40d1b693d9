package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Reshape to a target given as ONNX does: 0 keeps the input's dimension (unless allowZero),
 * one -1 is inferred. The target is a constant of the op; an importer resolves ONNX's shape
 * input into it.
 */
public record Reshape(int[] target, boolean allowZero) implements Op {

    public Reshape {
        target = target.clone();
    }

    public Reshape(int... target) {
        this(target, false);
    }

    @Override
    public int[] target() {
        return target.clone();
    }

    @Override
    public String type() {
        return "Reshape";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        int[] out = new int[target.length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            int t = target[i];
            if (t == -1) {
                require(inferred < 0, "target " + Arrays.toString(target) + " has more than one -1");
                inferred = i;
                continue;
            }
            if (t == 0 && !allowZero) {
                require(i < x.rank(), "target " + Arrays.toString(target) + " copies dimension " + i + " of " + x);
                t = x.dim(i);
            }
            require(t >= 0, "target " + Arrays.toString(target) + " has a negative dimension");
            out[i] = t;
            known = ShapeArithmetic.product("target " + Arrays.toString(target), known, t);
        }
        long total = x.elementCount();
        if (inferred >= 0) {
            require(known != 0 && total % known == 0, "cannot infer the -1 of " + Arrays.toString(target)
                    + " for " + x);
            out[inferred] = ShapeArithmetic.dimension("the -1 of " + Arrays.toString(target), total / known);
        } else {
            require(known == total, "target " + Arrays.toString(target) + " holds " + known + " elements, input "
                    + x + " has " + total);
        }
        return List.of(Shape.of(out));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Reshape r && r.allowZero == allowZero && Arrays.equals(r.target, target);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(target) * 31 + Boolean.hashCode(allowZero);
    }

    @Override
    public String toString() {
        return "Reshape" + Arrays.toString(target);
    }
}
