package dev.kiln.cpusimd;

import dev.kiln.graph.ops.ActivationFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link ActivationFunction}'s math on whole vectors, for epilogues applied while an output tile
 * is still in registers. Each case mirrors the scalar definition, so the reference backend is
 * its oracle.
 */
public final class VectorActivation {
    private VectorActivation() {
    }

    public static FloatVector apply(ActivationFunction f, FloatVector x) {
        return switch (f.kind()) {
            case RELU -> x.max(0f);
            case CLIP -> x.max(f.alpha()).min(f.beta());
            case SIGMOID -> sigmoid(x);
            case SILU -> x.mul(sigmoid(x));
            case HARD_SIGMOID -> x.mul(f.alpha()).add(f.beta()).max(0f).min(1f);
            case HARD_SWISH -> x.mul(x.mul(1f / 6f).add(0.5f).max(0f).min(1f));
            case LEAKY_RELU -> x.blend(x.mul(f.alpha()), x.lt(0f));
            case TANH -> x.lanewise(VectorOperators.TANH);
        };
    }

    /** 1 / (1 + e^-x); EXP saturates to infinity for very negative x, giving 0 as it should. */
    private static FloatVector sigmoid(FloatVector x) {
        return x.broadcast(1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }
}
