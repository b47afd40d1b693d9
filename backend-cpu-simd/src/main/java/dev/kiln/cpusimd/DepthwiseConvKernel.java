package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.PreparedWeights;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;


/**
 * Depthwise convolution (groups == channels == output channels) on NCHWc values. Each channel
 * has its own small filter, so one vector holds one pixel of L channels and the filter taps are
 * L-wide weight vectors: output(pixel) = bias + sum over taps of weight(tap) * input(pixel + tap),
 * an FMA per tap with no reduction across lanes. There is too little arithmetic per load to
 * gain from register tiling; the kernel streams each input row once per filter row.
 *
 * <p>Each output row is split into a left border, an interior where every tap lands inside the
 * image, and a right border; only the borders check columns. Rows whose taps fall above or below
 * the image skip those filter rows, a test per row rather than per element.
 */
public final class DepthwiseConvKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;
    /** Interior pixels computed together; 8 accumulators cover the FMA latency of two units. */
    private static final int GROUP = 8;

    private final int batch, channels, blocks, height, width, outH, outW;
    private final int kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW;
    /** Output columns [interiorStart, interiorEnd) read only columns inside the image. */
    private final int interiorStart, interiorEnd;
    /** Weights as [block][kh][kw][L], bias as [block][L]; zero in the padding lanes. */
    private final float[] weights, bias;
    private final Epilogue epilogue;
    private final String epilogueText;
    /** Whether interior pixels go in groups: the in-register epilogue is one clip, to [clipLow, clipHigh]. */
    private final boolean groupPixels;
    private final float clipLow, clipHigh;

    public DepthwiseConvKernel(BoundNode node, PreparedWeights prepared) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Conv conv = (Conv) node.op();
        Shape xs = node.inputShape(0), ys = node.outputShape();
        Window w = conv.window().resolve(xs);
        batch = xs.dim(0);
        channels = xs.dim(1);
        blocks = BlockedLayout.blocks(channels);
        height = xs.dim(2);
        width = xs.dim(3);
        outH = ys.dim(2);
        outW = ys.dim(3);
        kernelH = w.kernelH();
        kernelW = w.kernelW();
        strideH = w.strideH();
        strideW = w.strideW();
        padTop = w.padTop();
        padLeft = w.padLeft();
        dilationH = w.dilationH();
        dilationW = w.dilationW();
        // ox is interior when ox * strideW - padLeft >= 0 and its last tap
        // ox * strideW - padLeft + (kernelW - 1) * dilationW <= width - 1.
        int first = Math.min(outW, Math.ceilDiv(padLeft, strideW));
        int lastTapReach = width - 1 + padLeft - (kernelW - 1) * dilationW;
        int end = lastTapReach < 0 ? 0 : Math.min(outW, lastTapReach / strideW + 1);
        interiorStart = first;
        interiorEnd = Math.max(first, end);

        // Packed once per compiled model: plans for other batch sizes share them.
        float[][] packed = prepared.get(CpuSimdBackend.ID + ":" + node.name() + ":depthwise",
                () -> pack(node, xs.dim(1), BlockedLayout.blocks(xs.dim(1)), w.kernelH() * w.kernelW()), p -> (long) (p[0].length + p[1].length) * 4);
        weights = packed[0];
        bias = packed[1];
        epilogue = Epilogue.of(conv.postOps());
        epilogueText = epilogue.describe();
        groupPixels = !epilogue.addsResidualInRegisters();
        float[] bounds = epilogue.registerBounds();
        clipLow = bounds[0];
        clipHigh = bounds[1];
    }

    /** Weights as [block][kh][kw][L] and bias as [block][L], zero in the padding lanes. */
    private static float[][] pack(BoundNode node, int channels, int blocks, int taps) {
        float[] plainWeights = ChannelPacking.values(node.constant(1));
        float[] weights = new float[blocks * taps * L];
        for (int c = 0; c < channels; c++) {
            for (int tap = 0; tap < taps; tap++) {
                weights[((c / L) * taps + tap) * L + c % L] = plainWeights[c * taps + tap];
            }
        }
        return new float[][]{weights, ChannelPacking.blocked(ChannelPacking.values(node.constant(2)), channels)};
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Conv conv)) {
            return "not a convolution";
        }
        Shape xs = node.inputShape(0), ws = node.inputShape(1);
        if (xs.rank() != 4) {
            return "input is not rank 4";
        }
        if (conv.groups() != xs.dim(1) || ws.dim(0) != xs.dim(1) || ws.dim(1) != 1) {
            return "not depthwise with multiplier 1 (groups " + conv.groups() + ", weights " + ws + ")";
        }
        if (!node.isConstant(1)) {
            return "weights are not constant";
        }
        if (node.inputShape(2) != null && !node.isConstant(2)) {
            return "bias is not constant";
        }
        return null;
    }

    @Override
    public String algorithm() {
        return "depthwise " + kernelH + "x" + kernelW + " stride " + strideH + "x" + strideW
                + (dilationH * dilationW > 1 ? " dilation " + dilationH + "x" + dilationW : "")
                + ", one FMA per tap on " + L + "-channel vectors, border columns split off"
                + (epilogueText.isEmpty() ? "" : ", epilogue " + epilogueText);
    }

    @Override
    public int inPlaceInput() {
        return -1; // output pixels read neighbouring input pixels, so the input must survive
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        float[] residual = inputs.length > 3 ? inputs[3] : null;
        int planes = batch * blocks;
        int bands = WorkSplit.bandsPerPlane(planes, outH, threads.parallelism());
        threads.parallelFor(planes * bands, task -> {
            int plane = task / bands, band = task % bands;
            computeRows(x, y, residual, plane, WorkSplit.bandStart(band, bands, outH),
                    WorkSplit.bandStart(band + 1, bands, outH));
        });
    }

    /** Output rows [rowStart, rowEnd) of one (image, channel block) plane. */
    private void computeRows(float[] x, float[] y, float[] residual, int plane, int rowStart, int rowEnd) {
        int block = plane % blocks;
        int inPlane = plane * height * width * L;
        int outPlane = plane * outH * outW * L;
        int weightBase = block * kernelH * kernelW * L;
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        // Activations may map zero to non-zero (sigmoid, clip above 0); padding lanes must stay zero.
        int real = Math.min(L, channels - block * L);
        VectorMask<Float> realLanes = SPECIES.indexInRange(0, real);
        VectorMask<Float> padding = realLanes.not();
        for (int oy = rowStart; oy < rowEnd; oy++) {
            int top = oy * strideH - padTop;
            // Filter rows whose input row lies inside the image.
            int kyFirst = top >= 0 ? 0 : Math.ceilDiv(-top, dilationH);
            int kyEnd = Math.min(kernelH, Math.floorDiv(height - 1 - top, dilationH) + 1);
            int outRow = outPlane + oy * outW * L;
            for (int border = 0; border < interiorStart; border++) {
                borderPixel(x, y, residual, inPlane, block, top, kyFirst, kyEnd, border, outRow + border * L,
                        realLanes);
            }
            int ox = interiorStart;
            if (groupPixels && interiorEnd - interiorStart >= GROUP) {
                // The last group is moved back to end at the interior's end: it recomputes a few
                // pixels of the one before (from the input, so the same values) instead of
                // leaving them to the slower one-pixel path.
                for (; ox < interiorEnd; ox += GROUP) {
                    int at = Math.min(ox, interiorEnd - GROUP);
                    interiorGroup(x, y, inPlane, block, top, kyFirst, kyEnd, at, outRow + at * L, padding);
                }
            }
            for (; ox < interiorEnd; ox++) {
                FloatVector acc = biasVector;
                int left = ox * strideW - padLeft;
                for (int ky = kyFirst; ky < kyEnd; ky++) {
                    int inRow = inPlane + ((top + ky * dilationH) * width + left) * L;
                    int tap = weightBase + ky * kernelW * L;
                    for (int kx = 0; kx < kernelW; kx++) {
                        FloatVector in = FloatVector.fromArray(SPECIES, x, inRow + kx * dilationW * L);
                        acc = in.fma(FloatVector.fromArray(SPECIES, weights, tap + kx * L), acc);
                    }
                }
                store(acc, y, residual, outRow + ox * L, realLanes);
            }
            for (int border = interiorEnd; border < outW; border++) {
                borderPixel(x, y, residual, inPlane, block, top, kyFirst, kyEnd, border, outRow + border * L,
                        realLanes);
            }
            if (epilogue.hasRest()) {
                epilogue.applyRest(y, outRow, outW * L, residual, real);
            }
        }
    }

    /**
     * {@value #GROUP} neighbouring interior pixels of one row: each weight vector is loaded once
     * for all of them, and their independent accumulators keep both FMA units busy where one
     * pixel's chain of dependent FMAs would wait on each one's latency. Only for an epilogue
     * whose in-register part is a clip ({@link #groupPixels}); a residual add in registers takes
     * the one-pixel path.
     */
    private void interiorGroup(float[] x, float[] y, int inPlane, int block, int top, int kyFirst, int kyEnd, int ox,
                               int out, VectorMask<Float> padding) {
        // Loaded here, not passed in: C2 intrinsifies vector operations only on vectors whose
        // exact class it sees, and a FloatVector parameter of a method it did not inline hides it.
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        int weightBase = block * kernelH * kernelW * L;
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int step = strideW * L;
        int left = ox * strideW - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int inRow = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = weightBase + ky * kernelW * L;
            for (int kx = 0; kx < kernelW; kx++) {
                FloatVector w = FloatVector.fromArray(SPECIES, weights, tap + kx * L);
                int at = inRow + kx * dilationW * L;
                a0 = FloatVector.fromArray(SPECIES, x, at).fma(w, a0);
                a1 = FloatVector.fromArray(SPECIES, x, at + step).fma(w, a1);
                a2 = FloatVector.fromArray(SPECIES, x, at + 2 * step).fma(w, a2);
                a3 = FloatVector.fromArray(SPECIES, x, at + 3 * step).fma(w, a3);
                a4 = FloatVector.fromArray(SPECIES, x, at + 4 * step).fma(w, a4);
                a5 = FloatVector.fromArray(SPECIES, x, at + 5 * step).fma(w, a5);
                a6 = FloatVector.fromArray(SPECIES, x, at + 6 * step).fma(w, a6);
                a7 = FloatVector.fromArray(SPECIES, x, at + 7 * step).fma(w, a7);
            }
        }
        // The clip written out, not a call: C2 stops inlining in a method this size, and a vector
        // handed to a call it did not inline is boxed (and its arithmetic falls back to Java).
        float lo = clipLow, hi = clipHigh;
        a0.max(lo).min(hi).blend(0f, padding).intoArray(y, out);
        a1.max(lo).min(hi).blend(0f, padding).intoArray(y, out + L);
        a2.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 2 * L);
        a3.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 3 * L);
        a4.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 4 * L);
        a5.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 5 * L);
        a6.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 6 * L);
        a7.max(lo).min(hi).blend(0f, padding).intoArray(y, out + 7 * L);
    }

    /** One output pixel near the left or right edge: taps outside the image are skipped. */
    private void borderPixel(float[] x, float[] y, float[] residual, int inPlane, int block, int top, int kyFirst,
                             int kyEnd, int ox, int out, VectorMask<Float> realLanes) {
        int left = ox * strideW - padLeft;
        int kxFirst = left >= 0 ? 0 : Math.ceilDiv(-left, dilationW);
        int kxEnd = Math.min(kernelW, Math.floorDiv(width - 1 - left, dilationW) + 1);
        int weightBase = block * kernelH * kernelW * L;
        FloatVector acc = FloatVector.fromArray(SPECIES, bias, block * L);
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int inRow = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = weightBase + ky * kernelW * L;
            for (int kx = kxFirst; kx < kxEnd; kx++) {
                FloatVector in = FloatVector.fromArray(SPECIES, x, inRow + kx * dilationW * L);
                acc = in.fma(FloatVector.fromArray(SPECIES, weights, tap + kx * L), acc);
            }
        }
        store(acc, y, residual, out, realLanes);
    }

    /** The in-register part of the epilogue, then the store with the padding lanes zeroed. */
    private void store(FloatVector acc, float[] y, float[] residual, int at, VectorMask<Float> realLanes) {
        epilogue.inRegisters(acc, residual, at).blend(0f, realLanes.not()).intoArray(y, at);
    }
}
