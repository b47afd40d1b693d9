package dev.kiln.cpusimd;

import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.PostOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;

/**
 * A convolution's post-ops, split at compile time into the part applied while the output is in
 * registers and the rest, applied over the just-stored output while it is still in L1.
 *
 * <p>In registers: {@code clip(lo0, hi0)}, then the residual add if any, then
 * {@code clip(lo1, hi1)}; ReLU, ReLU6 and Clip are clips, and "no activation" is the clip to
 * the whole line. This covers the epilogues of VGG, ResNet (add, then ReLU), GoogLeNet and both
 * MobileNets with a few max/min instructions and no call. The rest (SiLU, sigmoid, hard-swish,
 * and anything after them) runs as {@link VectorActivation}'s array loops, since a vector handed
 * to a method C2 does not inline is boxed.
 */
public final class Epilogue {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final float lo0, hi0, lo1, hi1;
    private final boolean residualInRegisters;
    /** Post-ops left for {@link #applyRest}, in order. */
    private final List<PostOp> rest;

    /** Every post-op, for {@link #describe}. */
    private final List<PostOp> all;

    private Epilogue(List<PostOp> all, float lo0, float hi0, boolean residual, float lo1, float hi1,
                     List<PostOp> rest) {
        this.all = List.copyOf(all);
        this.lo0 = lo0;
        this.hi0 = hi0;
        this.residualInRegisters = residual;
        this.lo1 = lo1;
        this.hi1 = hi1;
        this.rest = List.copyOf(rest);
    }

    public static Epilogue of(List<PostOp> postOps) {
        float lo0 = Float.NEGATIVE_INFINITY, hi0 = Float.POSITIVE_INFINITY;
        float lo1 = Float.NEGATIVE_INFINITY, hi1 = Float.POSITIVE_INFINITY;
        boolean residual = false;
        int i = 0;
        for (; i < postOps.size(); i++) {
            PostOp p = postOps.get(i);
            if (p instanceof PostOp.AddResidual && !residual) {
                residual = true;
            } else if (p instanceof PostOp.Activate a && VectorActivation.isClip(a.function())) {
                ActivationFunction f = a.function();
                float lo = VectorActivation.clipLow(f), hi = VectorActivation.clipHigh(f);
                // A clip after a clip is one clip: its bounds are the second clip applied to the first's.
                if (residual) {
                    float newLo = Math.min(Math.max(lo1, lo), hi);
                    hi1 = Math.max(Math.min(hi1, hi), lo);
                    lo1 = newLo;
                } else {
                    float newLo = Math.min(Math.max(lo0, lo), hi);
                    hi0 = Math.max(Math.min(hi0, hi), lo);
                    lo0 = newLo;
                }
            } else {
                break;
            }
        }
        return new Epilogue(postOps, lo0, hi0, residual, lo1, hi1, postOps.subList(i, postOps.size()));
    }

    public boolean addsResidualInRegisters() {
        return residualInRegisters;
    }

    /**
     * The in-register part's bounds: clip to [{@code [0]}, {@code [1]}], add the residual if
     * any, clip to [{@code [2]}, {@code [3]}]. For a hot loop that must not pass vectors through
     * a call ({@link #inRegisters} may not be inlined into a large caller).
     */
    public float[] registerBounds() {
        return new float[]{lo0, hi0, lo1, hi1};
    }

    /** The in-register part; {@code residual} is read at {@code at} only when the epilogue adds it here. */
    public FloatVector inRegisters(FloatVector acc, float[] residual, int at) {
        FloatVector v = acc.max(lo0).min(hi0);
        if (residualInRegisters) {
            v = v.add(FloatVector.fromArray(SPECIES, residual, at));
        }
        return v.max(lo1).min(hi1);
    }

    public boolean hasRest() {
        return !rest.isEmpty();
    }

    /**
     * Applies the remaining post-ops to {@code y[from, from + count)} in place; a residual add
     * among them reads the same range of {@code residual}. For a blocked range of one channel
     * block whose last {@code L - realLanes} lanes are padding, those lanes are set back to zero
     * (sigmoid(0) is not zero); pass {@link BlockedLayout#LANES} otherwise.
     */
    public void applyRest(float[] y, int from, int count, float[] residual, int realLanes) {
        for (PostOp p : rest) {
            switch (p) {
                case PostOp.Activate a -> VectorActivation.apply(a.function(), y, y, from, count);
                case PostOp.AddResidual r -> addResidual(y, residual, from, count);
            }
        }
        BlockedLayout.zeroPaddingLanes(y, from, count, realLanes);
    }

    private static void addResidual(float[] y, float[] residual, int from, int count) {
        int end = from + count - count % L;
        for (int i = from; i < end; i += L) {
            FloatVector.fromArray(SPECIES, y, i).add(FloatVector.fromArray(SPECIES, residual, i)).intoArray(y, i);
        }
        for (int i = end; i < from + count; i++) {
            y[i] += residual[i];
        }
    }

    /** For explain: "relu", "add+relu", "silu (after the tile)". */
    public String describe() {
        if (all.isEmpty()) {
            return "";
        }
        String ops = all.stream().map(Object::toString).collect(java.util.stream.Collectors.joining("+"));
        return rest.isEmpty() ? ops + " in registers" : ops + " (" + rest.size() + " after the tile, in L1)";
    }
}
