package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * Y = alpha * A' * B' + beta * C, with A' = transpose(A) if transA (likewise B), A' [M, K],
 * B' [K, N] and the optional C broadcastable to [M, N], then the activations in
 * {@code postOps}, in order (the fused form). The fully connected layer is transB with W [N, K].
 */
public record Gemm(float alpha, float beta, boolean transA, boolean transB, List<PostOp> postOps) implements Op {

    /** A fully connected layer: X [M, K] times W [N, K] transposed, plus bias. */
    public static final Gemm FULLY_CONNECTED = new Gemm(1f, 1f, false, true);

    /** Post-ops are activations only (the optimizer fuses a following Relu, as in VGG's classifier). */
    public Gemm {
        postOps = List.copyOf(postOps);
        require(postOps.stream().allMatch(p -> p instanceof PostOp.Activate),
                "a Gemm's post-ops may only be activations, got " + postOps);
    }

    public Gemm(float alpha, float beta, boolean transA, boolean transB) {
        this(alpha, beta, transA, transB, List.of());
    }

    public Gemm withPostOps(List<PostOp> ops) {
        return new Gemm(alpha, beta, transA, transB, ops);
    }

    @Override
    public String type() {
        return postOps.isEmpty() ? "Gemm" : "FusedGemm";
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
        return ShapeArithmetic.product("multiply-accumulates", out.getFirst().elementCount(),
                transA ? a.dim(0) : a.dim(1));
    }
}
