package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Flatten, Reshape, Identity and Dropout: ops that keep the elements in NCHW order and only
 * rename the shape. Between values of the same layout that is a copy (nothing at all when the
 * memory plan runs it in place). Between a blocked rank-4 value and a row-major one of another
 * rank, the elements move between NCHWc and NCHW order, which is what ONNX's Flatten means for
 * a feature map: one (image, channel block) at a time, with strided gathers so that each vector
 * store writes 16 contiguous floats.
 */
public final class ReorderKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private enum Direction { COPY, TO_PLAIN, TO_BLOCKED }

    private final Direction direction;
    /** The blocked side's dimensions, for the two reorders. */
    private final int batch, channels, blocks, pixels;
    private final long floats;
    /**
     * Gather offsets: one channel over consecutive pixels of a block (stride L), one pixel over
     * channels (stride pixels). The Vector API checks the offsets of masked-off lanes too, so the
     * forms for a partial vector at the end point those lanes at offset 0.
     */
    private final int[] pixelStride, pixelStrideTail, channelStride, channelStrideTail;
    /** Dropout's mask output, all ones at inference: its shape, or null. */
    private final Shape maskShape;

    public ReorderKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Shape xs = node.inputShape(0), ys = node.outputShape();
        boolean inBlocked = xs.rank() == 4, outBlocked = ys.rank() == 4;
        direction = inBlocked == outBlocked ? Direction.COPY : inBlocked ? Direction.TO_PLAIN : Direction.TO_BLOCKED;
        Shape blockedShape = inBlocked ? xs : ys;
        boolean reorders = direction != Direction.COPY;
        batch = reorders ? blockedShape.dim(0) : 0;
        channels = reorders ? blockedShape.dim(1) : 0;
        blocks = BlockedLayout.blocks(channels);
        pixels = reorders ? blockedShape.dim(2) * blockedShape.dim(3) : 0;
        floats = BlockedLayout.floats(ys);
        pixelStride = new int[L];
        pixelStrideTail = new int[L];
        channelStride = new int[L];
        channelStrideTail = new int[L];
        for (int l = 0; l < L; l++) {
            pixelStride[l] = l * L;
            pixelStrideTail[l] = l < pixels % L ? l * L : 0;
            channelStride[l] = l * pixels;
            channelStrideTail[l] = l < channels % L ? l * pixels : 0;
        }
        maskShape = node.outputShapes().size() > 1 ? node.outputShapes().get(1) : null;
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Flatten || node.op() instanceof Reshape || node.op() instanceof Passthrough)) {
            return "not a Flatten, Reshape or pass-through";
        }
        Shape xs = node.inputShape(0), ys = node.outputShape();
        if (xs.rank() == 4 && ys.rank() == 4 && !xs.equals(ys)) {
            return "reshape between different rank-4 shapes " + xs + " and " + ys + " in blocked layout";
        }
        return xs.elementCount() <= Integer.MAX_VALUE ? null : "too many elements";
    }

    @Override
    public String algorithm() {
        return switch (direction) {
            case COPY -> "copy (none when in place)";
            case TO_PLAIN -> "NCHWc to NCHW, strided gathers per channel";
            case TO_BLOCKED -> "NCHW to NCHWc, strided gathers per pixel";
        };
    }

    @Override
    public int inPlaceInput() {
        return direction == Direction.COPY ? 0 : -1;
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        switch (direction) {
            case COPY -> {
                if (x != y) {
                    System.arraycopy(x, 0, y, 0, (int) floats);
                }
            }
            case TO_PLAIN -> threads.parallelFor(batch * blocks, plane -> toPlain(x, y, plane));
            case TO_BLOCKED -> threads.parallelFor(batch * blocks, plane -> toBlocked(x, y, plane));
        }
        if (maskShape != null && outputs.length > 1 && outputs[1] != null) {
            fillOnes(outputs[1]);
        }
    }

    /** One (image, channel block) plane to the channels' rows of NCHW. */
    private void toPlain(float[] x, float[] y, int plane) {
        int image = plane / blocks, block = plane % blocks;
        int src = plane * pixels * L;
        int realLanes = Math.min(L, channels - block * L);
        if (pixels == 1) { // [N, C, 1, 1], as after a global pool: the channels are already in order
            System.arraycopy(x, src, y, image * channels + block * L, realLanes);
            return;
        }
        for (int l = 0; l < realLanes; l++) {
            int dst = (image * channels + block * L + l) * pixels;
            for (int p = 0; p < pixels; p += L) {
                VectorMask<Float> inPlane = SPECIES.indexInRange(p, pixels);
                int[] offsets = p + L <= pixels ? pixelStride : pixelStrideTail;
                FloatVector.fromArray(SPECIES, x, src + p * L + l, offsets, 0, inPlane)
                        .intoArray(y, dst + p, inPlane);
            }
        }
    }

    /** The channels of one block from NCHW rows to one NCHWc plane; padding lanes gather nothing and stay zero. */
    private void toBlocked(float[] x, float[] y, int plane) {
        int image = plane / blocks, block = plane % blocks;
        int src = (image * channels + block * L) * pixels;
        int dst = plane * pixels * L;
        VectorMask<Float> realLanes = SPECIES.indexInRange(block * L, channels);
        int[] offsets = (block + 1) * L <= channels ? channelStride : channelStrideTail;
        for (int p = 0; p < pixels; p++) {
            FloatVector.fromArray(SPECIES, x, src + p, offsets, 0, realLanes).intoArray(y, dst + p * L);
        }
    }

    private void fillOnes(float[] mask) {
        if (maskShape.rank() != 4) {
            Arrays.fill(mask, 0, maskShape.elementCountInt(), 1f);
            return;
        }
        int maskChannels = maskShape.dim(1), maskBlocks = BlockedLayout.blocks(maskChannels);
        int maskPixels = maskShape.dim(2) * maskShape.dim(3);
        FloatVector zero = FloatVector.zero(SPECIES);
        for (int plane = 0; plane < maskShape.dim(0) * maskBlocks; plane++) {
            int block = plane % maskBlocks;
            FloatVector v = zero.blend(1f, SPECIES.indexInRange(block * L, maskChannels));
            for (int p = 0; p < maskPixels; p++) {
                v.intoArray(mask, (plane * maskPixels + p) * L);
            }
        }
    }
}
