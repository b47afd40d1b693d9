package dev.kiln.opencl;

import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.PostOp;

import java.util.List;

/**
 * A fused epilogue as the kernels take it: up to {@link #MAX} steps, each a kind (numbered as
 * {@code kernels.cl} defines {@code POST_*}) with the activation's alpha and beta. Passing the
 * epilogue as data keeps one program for every node instead of one per combination.
 */
record PostOpCodes(int[] kinds, float[] alphas, float[] betas) {
    static final int MAX = 4;
    static final int ADD_RESIDUAL = 9;

    static final PostOpCodes NONE = of(List.of());

    /** Why these post-ops do not fit, or null when they do. */
    static String unsupportedReason(List<PostOp> postOps) {
        return postOps.size() > MAX ? "more than " + MAX + " fused post-ops (" + postOps + ")" : null;
    }

    static PostOpCodes of(List<PostOp> postOps) {
        if (postOps.size() > MAX) {
            throw new IllegalArgumentException(unsupportedReason(postOps));
        }
        int[] kinds = new int[MAX];
        float[] alphas = new float[MAX];
        float[] betas = new float[MAX];
        for (int i = 0; i < postOps.size(); i++) {
            switch (postOps.get(i)) {
                case PostOp.Activate a -> {
                    kinds[i] = code(a.function().kind());
                    alphas[i] = a.function().alpha();
                    betas[i] = a.function().beta();
                }
                case PostOp.AddResidual r -> kinds[i] = ADD_RESIDUAL;
            }
        }
        return new PostOpCodes(kinds, alphas, betas);
    }

    static PostOpCodes of(ActivationFunction f) {
        return of(List.of(new PostOp.Activate(f)));
    }

    static int code(ActivationFunction.Kind kind) {
        return switch (kind) {
            case RELU -> 1;
            case CLIP -> 2;
            case SIGMOID -> 3;
            case SILU -> 4;
            case HARD_SIGMOID -> 5;
            case HARD_SWISH -> 6;
            case LEAKY_RELU -> 7;
            case TANH -> 8;
        };
    }
}
