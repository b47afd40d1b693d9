package dev.kiln.reference;

import dev.kiln.graph.ops.PostOp;

import java.util.List;

/** Applies a convolution's post-ops, in order, to a range of its output. */
final class Epilogue {
    private Epilogue() {
    }

    static void apply(List<PostOp> postOps, float[] y, float[] residual, int from, int count) {
        for (PostOp p : postOps) {
            switch (p) {
                case PostOp.Activate a -> {
                    for (int i = from; i < from + count; i++) {
                        y[i] = a.function().apply(y[i]);
                    }
                }
                case PostOp.AddResidual r -> {
                    for (int i = from; i < from + count; i++) {
                        y[i] += residual[i];
                    }
                }
            }
        }
    }
}
