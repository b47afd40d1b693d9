package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GlobalAveragePool and GlobalMaxPool on NCHWc values: the output [N, C, 1, 1] is one vector
 * per (image, channel block), the mean or max of the plane's pixel vectors. No lane reduction
 * is needed because each lane is its own channel. Padding lanes are zero in and so zero out.
 */
public final class GlobalPoolKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final boolean max;
    private final int planes, pixels;

    public GlobalPoolKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Shape xs = node.inputShape(0);
        max = ((GlobalPool) node.op()).kind() == GlobalPool.Kind.MAX;
        planes = xs.dim(0) * BlockedLayout.blocks(xs.dim(1));
        pixels = xs.dim(2) * xs.dim(3);
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof GlobalPool)) {
            return "not a global pool";
        }
        return node.inputShape(0).rank() == 4 ? null : "input is not rank 4";
    }

    @Override
    public String algorithm() {
        return "global " + (max ? "max" : "average") + " pool, " + L + "-channel vectors per plane";
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        threads.parallelFor(planes, plane -> {
            int base = plane * pixels * L;
            FloatVector result;
            if (max) {
                result = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
                for (int p = 0; p < pixels; p++) {
                    result = result.max(FloatVector.fromArray(SPECIES, x, base + p * L));
                }
            } else {
                // Two partial sums: halves the add chain's latency and its rounding error on large planes.
                FloatVector even = FloatVector.zero(SPECIES), odd = FloatVector.zero(SPECIES);
                int p = 0;
                for (; p + 1 < pixels; p += 2) {
                    even = even.add(FloatVector.fromArray(SPECIES, x, base + p * L));
                    odd = odd.add(FloatVector.fromArray(SPECIES, x, base + (p + 1) * L));
                }
                if (p < pixels) {
                    even = even.add(FloatVector.fromArray(SPECIES, x, base + p * L));
                }
                result = even.add(odd).div((float) pixels);
            }
            result.intoArray(y, plane * L);
        });
    }
}
