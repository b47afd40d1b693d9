package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/** NumPy matmul: 1-D operands are promoted and the promoted axis removed; batch axes broadcast. */
public record MatMul() implements Op {

    @Override
    public String type() {
        return "MatMul";
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape a = in.get(0);
        Shape b = in.get(1);
        require(a.rank() >= 1 && b.rank() >= 1, "operands must have rank at least 1, got " + a + " and " + b);
        Shape a2 = a.rank() == 1 ? Shape.of(1, a.dim(0)) : a;
        Shape b2 = b.rank() == 1 ? Shape.of(b.dim(0), 1) : b;
        int k = a2.dim(-1);
        require(k == b2.dim(-2), "inner dimensions differ: " + a + " and " + b);
        Shape batch = Binary.broadcast(batchOf(a2), batchOf(b2));
        int[] bd = batch.dims();
        int extra = (a.rank() == 1 ? 0 : 1) + (b.rank() == 1 ? 0 : 1);
        int[] out = new int[bd.length + extra];
        System.arraycopy(bd, 0, out, 0, bd.length);
        int i = bd.length;
        if (a.rank() != 1) {
            out[i++] = a2.dim(-2);
        }
        if (b.rank() != 1) {
            out[i] = b2.dim(-1);
        }
        return List.of(Shape.of(out));
    }

    /** The leading (batch) axes of a matrix operand of rank 2 or more. */
    public static Shape batchOf(Shape s) {
        int[] d = new int[s.rank() - 2];
        for (int i = 0; i < d.length; i++) {
            d[i] = s.dim(i);
        }
        return Shape.of(d);
    }

    @Override
    public long macs(List<Shape> in, List<Shape> out) {
        Shape a = in.getFirst();
        return ShapeArithmetic.product("multiply-accumulates", out.getFirst().elementCount(), a.dim(-1));
    }
}
