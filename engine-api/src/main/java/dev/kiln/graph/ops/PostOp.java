package dev.kiln.graph.ops;

/**
 * One step of a convolution's epilogue, applied in order to each output element after the
 * bias, as oneDNN's post-ops are: fusion expressed as data, not as a family of fused ops.
 */
public sealed interface PostOp {

    /** Apply an activation. */
    record Activate(ActivationFunction function) implements PostOp {
        @Override
        public String toString() {
            return function.toString();
        }
    }

    /** Add the residual input (the conv's fourth input, same shape as the output). */
    record AddResidual() implements PostOp {
        @Override
        public String toString() {
            return "Add";
        }
    }
}
