package dev.kiln.cpusimd;

import dev.kiln.graph.ops.ActivationFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ActivationFunction}'s math over a range of an array, one small vector loop per kind.
 * The loop is inside each case, not the switch inside the loop: a vector passed to or returned
 * from a method that C2 does not inline is boxed on the heap, and a method holding every kind's
 * code (EXP and TANH stubs included) grows past the inlining limits once all kinds have run.
 * The scalar tail uses the scalar definition, so the reference backend is the oracle of both.
 */
public final class VectorActivation {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private VectorActivation() {
    }

    /** Whether f is max(lo, min(hi, x)) for some bounds: cheap enough to apply in registers. */
    public static boolean isClip(ActivationFunction f) {
        return f.kind() == ActivationFunction.Kind.RELU || f.kind() == ActivationFunction.Kind.CLIP;
    }

    public static float clipLow(ActivationFunction f) {
        return f.kind() == ActivationFunction.Kind.RELU ? 0f : f.alpha();
    }

    public static float clipHigh(ActivationFunction f) {
        return f.kind() == ActivationFunction.Kind.RELU ? Float.POSITIVE_INFINITY : f.beta();
    }

    /** dst[from, from + count) = f(src[from, from + count)); src and dst may be the same array. */
    public static void apply(ActivationFunction f, float[] src, float[] dst, int from, int count) {
        switch (f.kind()) {
            case RELU, CLIP -> clip(src, dst, from, count, clipLow(f), clipHigh(f));
            case SIGMOID -> sigmoid(src, dst, from, count);
            case SILU -> silu(src, dst, from, count);
            case HARD_SIGMOID -> hardSigmoid(src, dst, from, count, f.alpha(), f.beta());
            case HARD_SWISH -> hardSwish(src, dst, from, count);
            case LEAKY_RELU -> leakyRelu(src, dst, from, count, f.alpha());
            case TANH -> tanh(src, dst, from, count);
        }
        int tail = from + vectorPart(count);
        for (int i = tail; i < from + count; i++) {
            dst[i] = f.apply(src[i]);
        }
    }

    private static int vectorPart(int count) {
        return count - count % L;
    }

    private static void clip(float[] src, float[] dst, int from, int count, float lo, float hi) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector.fromArray(SPECIES, src, i).max(lo).min(hi).intoArray(dst, i);
        }
    }

    private static void sigmoid(float[] src, float[] dst, int from, int count) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector x = FloatVector.fromArray(SPECIES, src, i);
            x.broadcast(1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(dst, i);
        }
    }

    private static void silu(float[] src, float[] dst, int from, int count) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector x = FloatVector.fromArray(SPECIES, src, i);
            // x / (1 + e^-x); e^-x overflows to infinity for very negative x, giving -0 as x * sigmoid(x) does.
            x.div(x.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(dst, i);
        }
    }

    private static void hardSigmoid(float[] src, float[] dst, int from, int count, float alpha, float beta) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector.fromArray(SPECIES, src, i).mul(alpha).add(beta).max(0f).min(1f).intoArray(dst, i);
        }
    }

    private static void hardSwish(float[] src, float[] dst, int from, int count) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector x = FloatVector.fromArray(SPECIES, src, i);
            x.mul(x.div(6f).add(0.5f).max(0f).min(1f)).intoArray(dst, i);
        }
    }

    private static void leakyRelu(float[] src, float[] dst, int from, int count, float alpha) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector x = FloatVector.fromArray(SPECIES, src, i);
            x.blend(x.mul(alpha), x.lt(0f)).intoArray(dst, i);
        }
    }

    private static void tanh(float[] src, float[] dst, int from, int count) {
        for (int i = from, end = from + vectorPart(count); i < end; i += L) {
            FloatVector.fromArray(SPECIES, src, i).lanewise(VectorOperators.TANH).intoArray(dst, i);
        }
    }
}
