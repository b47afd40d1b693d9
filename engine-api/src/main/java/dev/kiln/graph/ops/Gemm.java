package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Y = alpha * A' * B' + beta * C, with A' = transpose(A) if transA (likewise B), A' [M, K],
 * B' [K, N] and the optional C broadcastable to [M, N]. The fully connected layer is
 * transB with W [N, K].
 */
public record Gemm(float alpha, float beta, boolean transA, boolean transB) implements Op {

    /** A fully connected layer: X [M, K] times W [N, K] transposed, plus bias. */
    public static final Gemm FULLY_CONNECTED = new Gemm(1f, 1f, false, true);

    @Override
    public String type() {
        return "Gemm";
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return 3;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape a = in.get(0);
        Shape b = in.get(1);
        require(a.rank() == 2 && b.rank() == 2, "A and B must be matrices, got " + a + " and " + b);
        int m = transA ? a.dim(1) : a.dim(0);
        int k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0);
        int n = transB ? b.dim(0) : b.dim(1);
        require(k == kb, "inner dimensions differ: A' is [" + m + ", " + k + "], B' is [" + kb + ", " + n + "]");
        Shape out = Shape.of(m, n);
        Shape c = in.size() > 2 ? in.get(2) : null;
        if (c != null) {
            require(c.rank() <= 2 && Binary.broadcast(c, out).equals(out),
                    "C " + c + " does not broadcast to the output " + out);
        }
        return List.of(out);
    }

    @Override
    public long macs(List<Shape> in, List<Shape> out) {
        Shape a = in.getFirst();
        return out.getFirst().elementCount() * (transA ? a.dim(0) : a.dim(1));
    }
}
