package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Softmax over contiguous rows: exp(x - max) / sum, in three vector passes per row (max; exp,
 * stored, and summed; scale). Subtracting the row's max keeps exp from overflowing. Rows are the
 * last axis of a row-major value (or, in the opset 1-12 form, everything from the axis on), or
 * the channels of a blocked [N, C, 1, 1] value, whose padding lanes are written as zero.
 */
public final class SoftmaxKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final int rows, length, rowStride;

    public SoftmaxKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Softmax op = (Softmax) node.op();
        Shape xs = node.inputShape(0);
        if (xs.rank() == 4) {
            rows = xs.dim(0);
            length = xs.dim(1);
            rowStride = BlockedLayout.blocks(length) * L;
        } else {
            int axis = Math.floorMod(op.axis(), xs.rank());
            rows = (int) xs.product(0, axis);
            length = (int) xs.product(axis, xs.rank());
            rowStride = length;
        }
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Softmax op)) {
            return "not a softmax";
        }
        Shape xs = node.inputShape(0);
        int axis = Math.floorMod(op.axis(), xs.rank());
        if (xs.rank() == 4) {
            return axis == 1 && xs.dim(2) == 1 && xs.dim(3) == 1 ? null
                    : "softmax of a blocked value only over the channels of [N, C, 1, 1]";
        }
        return op.coerceTo2d() || axis == xs.rank() - 1 ? null
                : "softmax only over contiguous rows (the last axis), not axis " + op.axis() + " of " + xs;
    }

    @Override
    public String algorithm() {
        return "softmax of " + rows + " rows of " + length + ": vector max, exp and sum, scale";
    }

    @Override
    public int inPlaceInput() {
        return 0; // each pass reads an element before the same pass writes it
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        int chunks = Math.min(rows, WorkSplit.chunks((long) rows * length, threads.parallelism()));
        threads.parallelFor(chunks, chunk -> {
            for (int row = (int) ((long) chunk * rows / chunks); row < (long) (chunk + 1) * rows / chunks; row++) {
                softmaxRow(x, y, row * rowStride);
            }
        });
    }

    private void softmaxRow(float[] x, float[] y, int base) {
        int end = base + length;
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        for (int i = base; i < end; i += L) {
            VectorMask<Float> inRow = SPECIES.indexInRange(i, end);
            max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(SPECIES, x, i, inRow), inRow);
        }
        float rowMax = max.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int i = base; i < end; i += L) {
            VectorMask<Float> inRow = SPECIES.indexInRange(i, end);
            FloatVector e = FloatVector.fromArray(SPECIES, x, i, inRow).sub(rowMax).lanewise(VectorOperators.EXP);
            e.intoArray(y, i, inRow);
            sum = sum.add(e, inRow);
        }
        float rowSum = sum.reduceLanes(VectorOperators.ADD);
        for (int i = base; i < end; i += L) {
            VectorMask<Float> inRow = SPECIES.indexInRange(i, end);
            FloatVector.fromArray(SPECIES, y, i, inRow).div(rowSum).intoArray(y, i, inRow);
        }
        Arrays.fill(y, end, base + rowStride, 0f); // a blocked row's padding lanes
    }
}
