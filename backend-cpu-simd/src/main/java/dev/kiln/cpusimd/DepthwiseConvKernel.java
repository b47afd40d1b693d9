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

import java.util.Set;

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
public final class DepthwiseConvKernel implements DepthwiseRows {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;
    /** Interior pixels computed together; 8 accumulators cover the FMA latency of two units. */
    private static final int GROUP = 8;
    /** Channel blocks computed together where rows are too narrow for {@link #GROUP} pixels. */
    private static final int BLOCKS_TOGETHER = 4;

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
    /**
     * 3 or 5 when a group's filter rows slide over one row of inputs loaded once (dilation 1),
     * else 0; {@link #slidingStride} is then 1 or 2.
     */
    private final int slidingWidth, slidingStride;
    /** Whether 3-wide rows at stride 1 slide in {@link #slidingGroup3Diagonal}'s order (16 vector registers). */
    private final boolean diagonal;
    /**
     * Whether pixels go four channel blocks at a time ({@link #pixelOfFourBlocks}): rows too
     * narrow for a group of pixels (the 7x7 stage), where a pixel alone would be one chain of
     * dependent FMAs, with a clip-only in-register epilogue and at least four blocks. (Border
     * columns of wide rows taken the same way measured slower: the tasks then span four planes.)
     */
    private final boolean blocksTogether;
    /**
     * Per output row, the filter rows [first, end) whose input row lies inside the image; per
     * output column, the same for filter columns. Computed once: two divisions per pixel cost
     * more than a small pixel's FMAs.
     */
    private final int[] firstTapRow, endTapRow, firstTapColumn, endTapColumn;
    private final float clipLow, clipHigh;
    /** Whether the node adds a residual (input 3). */
    private final boolean addsResidual;

    public DepthwiseConvKernel(BoundNode node, PreparedWeights prepared) {
        this(node, prepared, RegisterTiles.MACHINE);
    }

    /**
     * As {@link #DepthwiseConvKernel(BoundNode, PreparedWeights)} with the sliding groups' order for
     * {@code registers}' file: with 16 registers, {@link #slidingGroup3Diagonal} for 3-wide filters
     * at stride 1. (The same order for 5-wide filters measured 0-7% slower under {@code
     * -XX:UseAVX=2} on EfficientNet-B0's layers, one thread, {@code DepthwiseBenchmark}.)
     */
    DepthwiseConvKernel(BoundNode node, PreparedWeights prepared, RegisterTiles registers) {
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
        firstTapRow = new int[outH];
        endTapRow = new int[outH];
        for (int oy = 0; oy < outH; oy++) {
            int top = oy * strideH - padTop;
            firstTapRow[oy] = top >= 0 ? 0 : Math.ceilDiv(-top, dilationH);
            endTapRow[oy] = Math.min(kernelH, Math.floorDiv(height - 1 - top, dilationH) + 1);
        }
        firstTapColumn = new int[outW];
        endTapColumn = new int[outW];
        for (int ox = 0; ox < outW; ox++) {
            int left = ox * strideW - padLeft;
            firstTapColumn[ox] = left >= 0 ? 0 : Math.ceilDiv(-left, dilationW);
            endTapColumn[ox] = Math.min(kernelW, Math.floorDiv(width - 1 - left, dilationW) + 1);
        }
        blocksTogether = groupPixels && interiorEnd - interiorStart < GROUP && blocks >= BLOCKS_TOGETHER;
        boolean slides = (strideW == 1 || strideW == 2) && dilationW == 1 && (kernelW == 3 || kernelW == 5);
        slidingWidth = slides ? kernelW : 0;
        diagonal = registers.vectorRegisters() < 32;
        slidingStride = slides ? strideW : 0;
        float[] bounds = epilogue.registerBounds();
        clipLow = bounds[0];
        clipHigh = bounds[1];
        addsResidual = node.inputShape(3) != null;
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

    /**
     * Whether every output row is computed from its input plane's rows alone
     * ({@link #computeRows(float[], int, float[], float[], int, int, int)}): not for rows taken
     * four blocks at a time, nor with a residual input.
     */
    boolean computesPlaneRows() {
        return !blocksTogether && !addsResidual;
    }

    /** The first input row that output row {@code oy} reads (clamped to the image). */
    @Override
    public int firstInputRow(int oy) {
        return Math.clamp((long) oy * strideH - padTop, 0, height);
    }

    /** One past the last input row that output row {@code oy} reads (clamped to the image). */
    @Override
    public int endInputRow(int oy) {
        return Math.clamp((long) oy * strideH - padTop + (long) (kernelH - 1) * dilationH + 1, 0, height);
    }

    @Override
    public int blocks() {
        return blocks;
    }

    @Override
    public int outputRows() {
        return outH;
    }

    @Override
    public String algorithm() {
        return "depthwise " + kernelH + "x" + kernelW + " stride " + strideH + "x" + strideW
                + (dilationH * dilationW > 1 ? " dilation " + dilationH + "x" + dilationW : "")
                + ", one FMA per tap on " + L + "-channel vectors, border columns split off"
                + (epilogueText.isEmpty() ? "" : ", epilogue " + epilogueText);
    }

    @Override
    public Set<FusedForm> fusedForms() {
        return computesPlaneRows() ? Set.of(FusedForm.DEPTHWISE_ROWS) : Set.of();
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
        if (blocksTogether) {
            int groups = Math.ceilDiv(blocks, BLOCKS_TOGETHER);
            int bands = WorkSplit.bandsPerPlane(batch * groups, outH, threads.parallelism());
            threads.parallelFor(batch * groups * bands, task -> {
                int group = task / bands % groups, image = task / bands / groups, band = task % bands;
                int rowStart = WorkSplit.bandStart(band, bands, outH), rowEnd = WorkSplit.bandStart(band + 1, bands, outH);
                int first = group * BLOCKS_TOGETHER;
                if (first + BLOCKS_TOGETHER > blocks) {
                    for (int block = first; block < blocks; block++) {
                        computeRows(x, y, residual, image * blocks + block, rowStart, rowEnd);
                    }
                } else {
                    computeRowsOfFourBlocks(x, y, residual, image, first, rowStart, rowEnd);
                }
            });
            return;
        }
        int bands = WorkSplit.bandsPerPlane(planes, outH, threads.parallelism());
        threads.parallelFor(planes * bands, task -> {
            int plane = task / bands, band = task % bands;
            computeRows(x, y, residual, plane, WorkSplit.bandStart(band, bands, outH),
                    WorkSplit.bandStart(band + 1, bands, outH));
        });
    }

    /**
     * Output rows [rowStart, rowEnd) of blocks [block, block + 4) of one image, for rows too
     * narrow for groups of pixels: each pixel is computed for the four blocks at once.
     */
    private void computeRowsOfFourBlocks(float[] x, float[] y, float[] residual, int image, int block, int rowStart,
                                         int rowEnd) {
        // Only the last block of all may have padding lanes; for the others this mask is empty.
        VectorMask<Float> lastPadding = SPECIES.indexInRange(0, Math.min(L, channels - (block + 3) * L)).not();
        for (int oy = rowStart; oy < rowEnd; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                pixelOfFourBlocks(x, y, image, block, oy, ox, lastPadding);
            }
            if (epilogue.hasRest()) {
                for (int b = block; b < block + BLOCKS_TOGETHER; b++) {
                    int outRow = ((image * blocks + b) * outH + oy) * outW * L;
                    epilogue.applyRest(y, outRow, outW * L, residual, Math.min(L, channels - b * L));
                }
            }
        }
    }

    /**
     * One output pixel of four neighbouring channel blocks: four independent chains of FMAs where
     * a single block's chain would wait on each FMA's latency. Taps outside the image are
     * skipped, so border and interior pixels take the same path.
     */
    private void pixelOfFourBlocks(float[] x, float[] y, int image, int block, int oy, int ox,
                                   VectorMask<Float> lastPadding) {
        int top = oy * strideH - padTop, left = ox * strideW - padLeft;
        int kyFirst = firstTapRow[oy], kyEnd = endTapRow[oy];
        int kxFirst = firstTapColumn[ox], kxEnd = endTapColumn[ox];
        int inStride = height * width * L, taps = kernelH * kernelW * L;
        int in0 = (image * blocks + block) * inStride;
        int w0 = block * taps;
        FloatVector a0 = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a1 = FloatVector.fromArray(SPECIES, bias, (block + 1) * L);
        FloatVector a2 = FloatVector.fromArray(SPECIES, bias, (block + 2) * L);
        FloatVector a3 = FloatVector.fromArray(SPECIES, bias, (block + 3) * L);
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int inRow = in0 + ((top + ky * dilationH) * width + left) * L;
            int tapRow = w0 + ky * kernelW * L;
            for (int kx = kxFirst; kx < kxEnd; kx++) {
                int at = inRow + kx * dilationW * L, tap = tapRow + kx * L;
                a0 = FloatVector.fromArray(SPECIES, x, at).fma(FloatVector.fromArray(SPECIES, weights, tap), a0);
                a1 = FloatVector.fromArray(SPECIES, x, at + inStride)
                        .fma(FloatVector.fromArray(SPECIES, weights, tap + taps), a1);
                a2 = FloatVector.fromArray(SPECIES, x, at + 2 * inStride)
                        .fma(FloatVector.fromArray(SPECIES, weights, tap + 2 * taps), a2);
                a3 = FloatVector.fromArray(SPECIES, x, at + 3 * inStride)
                        .fma(FloatVector.fromArray(SPECIES, weights, tap + 3 * taps), a3);
            }
        }
        int outStride = outH * outW * L;
        int out = ((image * blocks + block) * outH + oy) * outW * L + ox * L;
        float lo = clipLow, hi = clipHigh;
        a0.max(lo).min(hi).intoArray(y, out);
        a1.max(lo).min(hi).intoArray(y, out + outStride);
        a2.max(lo).min(hi).intoArray(y, out + 2 * outStride);
        a3.max(lo).min(hi).blend(0f, lastPadding).intoArray(y, out + 3 * outStride);
    }

    /** Output rows [rowStart, rowEnd) of one (image, channel block) plane. */
    private void computeRows(float[] x, float[] y, float[] residual, int plane, int rowStart, int rowEnd) {
        computeRows(x, plane * height * width * L, y, residual, plane, rowStart, rowEnd);
    }

    /**
     * As above, reading the input plane from {@code x} at {@code inPlane}: where input row 0
     * would start, so a buffer holding only the rows these outputs read may stand in for the
     * whole plane ({@link ExpansionDepthwiseKernel}).
     */
    @Override
    public void computeRows(float[] x, int inPlane, float[] y, float[] residual, int plane, int rowStart, int rowEnd) {
        int block = plane % blocks;
        int outPlane = plane * outH * outW * L;
        int weightBase = block * kernelH * kernelW * L;
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        // Activations may map zero to non-zero (sigmoid, clip above 0); padding lanes must stay zero.
        int real = Math.min(L, channels - block * L);
        VectorMask<Float> realLanes = SPECIES.indexInRange(0, real);
        VectorMask<Float> padding = realLanes.not();
        for (int oy = rowStart; oy < rowEnd; oy++) {
            int top = oy * strideH - padTop;
            int kyFirst = firstTapRow[oy], kyEnd = endTapRow[oy];
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
                    int out = outRow + at * L;
                    switch (slidingWidth * slidingStride) {
                        case 3 -> {
                            if (diagonal) {
                                slidingGroup3Diagonal(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                            } else {
                                slidingGroup3(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                            }
                        }
                        case 5 -> slidingGroup5(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                        case 6 -> slidingGroup3Stride2(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                        case 10 -> slidingGroup5Stride2(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                        default -> interiorGroup(x, y, inPlane, block, top, kyFirst, kyEnd, at, out, padding);
                    }
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

    /**
     * As {@link #interiorGroup} for a 3-wide filter row at stride 1: the {@value #GROUP} + 2
     * inputs of a row are loaded once and each feeds up to three outputs, 10 loads per filter
     * row instead of 24. Written out in full because only straight-line code keeps vectors in
     * registers.
     */
    private void slidingGroup3(float[] x, float[] y, int inPlane, int block, int top, int kyFirst, int kyEnd, int ox,
                               int out, VectorMask<Float> padding) {
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int left = ox - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int at = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = (block * kernelH + ky) * 3 * L;
            FloatVector w0 = FloatVector.fromArray(SPECIES, weights, tap);
            FloatVector w1 = FloatVector.fromArray(SPECIES, weights, tap + L);
            FloatVector w2 = FloatVector.fromArray(SPECIES, weights, tap + 2 * L);
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, at), x1 = FloatVector.fromArray(SPECIES, x, at + L);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, at + 2 * L), x3 = FloatVector.fromArray(SPECIES, x, at + 3 * L);
            FloatVector x4 = FloatVector.fromArray(SPECIES, x, at + 4 * L), x5 = FloatVector.fromArray(SPECIES, x, at + 5 * L);
            FloatVector x6 = FloatVector.fromArray(SPECIES, x, at + 6 * L), x7 = FloatVector.fromArray(SPECIES, x, at + 7 * L);
            FloatVector x8 = FloatVector.fromArray(SPECIES, x, at + 8 * L), x9 = FloatVector.fromArray(SPECIES, x, at + 9 * L);
            a0 = x2.fma(w2, x1.fma(w1, x0.fma(w0, a0)));
            a1 = x3.fma(w2, x2.fma(w1, x1.fma(w0, a1)));
            a2 = x4.fma(w2, x3.fma(w1, x2.fma(w0, a2)));
            a3 = x5.fma(w2, x4.fma(w1, x3.fma(w0, a3)));
            a4 = x6.fma(w2, x5.fma(w1, x4.fma(w0, a4)));
            a5 = x7.fma(w2, x6.fma(w1, x5.fma(w0, a5)));
            a6 = x8.fma(w2, x7.fma(w1, x6.fma(w0, a6)));
            a7 = x9.fma(w2, x8.fma(w1, x7.fma(w0, a7)));
        }
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

    /**
     * {@link #slidingGroup3} with each input used by all three outputs that read it as soon as it
     * is loaded, so that one or two inputs are alive at a time rather than ten: 8 accumulators, 3
     * weights and the inputs fit AVX2's 16 registers. Each accumulator sums its taps in the same
     * order as there, so the results are the same bits. Under {@code -XX:UseAVX=2}, one thread
     * ({@code DepthwiseBenchmark}): 0.92-0.94x the time of {@link #slidingGroup3} on MobileNet v2's
     * 3x3 stride-1 layers from 112x112 to 14x14, the same at 7x7 (rows too narrow for a group).
     */
    private void slidingGroup3Diagonal(float[] x, float[] y, int inPlane, int block, int top, int kyFirst,
                                       int kyEnd, int ox, int out, VectorMask<Float> padding) {
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int left = ox - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int at = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = (block * kernelH + ky) * 3 * L;
            FloatVector w0 = FloatVector.fromArray(SPECIES, weights, tap);
            FloatVector w1 = FloatVector.fromArray(SPECIES, weights, tap + L);
            FloatVector w2 = FloatVector.fromArray(SPECIES, weights, tap + 2 * L);
            FloatVector v = FloatVector.fromArray(SPECIES, x, at);
            a0 = v.fma(w0, a0);
            v = FloatVector.fromArray(SPECIES, x, at + L);
            a0 = v.fma(w1, a0);
            a1 = v.fma(w0, a1);
            v = FloatVector.fromArray(SPECIES, x, at + 2 * L);
            a0 = v.fma(w2, a0);
            a1 = v.fma(w1, a1);
            a2 = v.fma(w0, a2);
            v = FloatVector.fromArray(SPECIES, x, at + 3 * L);
            a1 = v.fma(w2, a1);
            a2 = v.fma(w1, a2);
            a3 = v.fma(w0, a3);
            v = FloatVector.fromArray(SPECIES, x, at + 4 * L);
            a2 = v.fma(w2, a2);
            a3 = v.fma(w1, a3);
            a4 = v.fma(w0, a4);
            v = FloatVector.fromArray(SPECIES, x, at + 5 * L);
            a3 = v.fma(w2, a3);
            a4 = v.fma(w1, a4);
            a5 = v.fma(w0, a5);
            v = FloatVector.fromArray(SPECIES, x, at + 6 * L);
            a4 = v.fma(w2, a4);
            a5 = v.fma(w1, a5);
            a6 = v.fma(w0, a6);
            v = FloatVector.fromArray(SPECIES, x, at + 7 * L);
            a5 = v.fma(w2, a5);
            a6 = v.fma(w1, a6);
            a7 = v.fma(w0, a7);
            v = FloatVector.fromArray(SPECIES, x, at + 8 * L);
            a6 = v.fma(w2, a6);
            a7 = v.fma(w1, a7);
            v = FloatVector.fromArray(SPECIES, x, at + 9 * L);
            a7 = v.fma(w2, a7);
        }
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

    /** {@link #slidingGroup3} for a 5-wide filter row: 12 loads per filter row instead of 40. */
    private void slidingGroup5(float[] x, float[] y, int inPlane, int block, int top, int kyFirst, int kyEnd, int ox,
                               int out, VectorMask<Float> padding) {
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int left = ox - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int at = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = (block * kernelH + ky) * 5 * L;
            FloatVector w0 = FloatVector.fromArray(SPECIES, weights, tap);
            FloatVector w1 = FloatVector.fromArray(SPECIES, weights, tap + L);
            FloatVector w2 = FloatVector.fromArray(SPECIES, weights, tap + 2 * L);
            FloatVector w3 = FloatVector.fromArray(SPECIES, weights, tap + 3 * L);
            FloatVector w4 = FloatVector.fromArray(SPECIES, weights, tap + 4 * L);
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, at), x1 = FloatVector.fromArray(SPECIES, x, at + L);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, at + 2 * L), x3 = FloatVector.fromArray(SPECIES, x, at + 3 * L);
            FloatVector x4 = FloatVector.fromArray(SPECIES, x, at + 4 * L), x5 = FloatVector.fromArray(SPECIES, x, at + 5 * L);
            a0 = x4.fma(w4, x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, a0)))));
            a1 = x5.fma(w4, x4.fma(w3, x3.fma(w2, x2.fma(w1, x1.fma(w0, a1)))));
            FloatVector x6 = FloatVector.fromArray(SPECIES, x, at + 6 * L), x7 = FloatVector.fromArray(SPECIES, x, at + 7 * L);
            a2 = x6.fma(w4, x5.fma(w3, x4.fma(w2, x3.fma(w1, x2.fma(w0, a2)))));
            a3 = x7.fma(w4, x6.fma(w3, x5.fma(w2, x4.fma(w1, x3.fma(w0, a3)))));
            FloatVector x8 = FloatVector.fromArray(SPECIES, x, at + 8 * L), x9 = FloatVector.fromArray(SPECIES, x, at + 9 * L);
            a4 = x8.fma(w4, x7.fma(w3, x6.fma(w2, x5.fma(w1, x4.fma(w0, a4)))));
            a5 = x9.fma(w4, x8.fma(w3, x7.fma(w2, x6.fma(w1, x5.fma(w0, a5)))));
            FloatVector x10 = FloatVector.fromArray(SPECIES, x, at + 10 * L), x11 = FloatVector.fromArray(SPECIES, x, at + 11 * L);
            a6 = x10.fma(w4, x9.fma(w3, x8.fma(w2, x7.fma(w1, x6.fma(w0, a6)))));
            a7 = x11.fma(w4, x10.fma(w3, x9.fma(w2, x8.fma(w1, x7.fma(w0, a7)))));
        }
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

    /**
     * {@link #slidingGroup3} at stride 2: output p reads inputs 2p, 2p + 1 and 2p + 2, so only
     * input 2p + 2 is shared with the next output; 17 loads per filter row instead of 24, in an
     * order that keeps three inputs alive at a time.
     */
    private void slidingGroup3Stride2(float[] x, float[] y, int inPlane, int block, int top, int kyFirst, int kyEnd,
                                      int ox, int out, VectorMask<Float> padding) {
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int left = 2 * ox - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int at = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = (block * kernelH + ky) * 3 * L;
            FloatVector w0 = FloatVector.fromArray(SPECIES, weights, tap);
            FloatVector w1 = FloatVector.fromArray(SPECIES, weights, tap + L);
            FloatVector w2 = FloatVector.fromArray(SPECIES, weights, tap + 2 * L);
            FloatVector even = FloatVector.fromArray(SPECIES, x, at);
            FloatVector odd = FloatVector.fromArray(SPECIES, x, at + L);
            FloatVector next = FloatVector.fromArray(SPECIES, x, at + 2 * L);
            a0 = next.fma(w2, odd.fma(w1, even.fma(w0, a0)));
            odd = FloatVector.fromArray(SPECIES, x, at + 3 * L);
            even = FloatVector.fromArray(SPECIES, x, at + 4 * L);
            a1 = even.fma(w2, odd.fma(w1, next.fma(w0, a1)));
            odd = FloatVector.fromArray(SPECIES, x, at + 5 * L);
            next = FloatVector.fromArray(SPECIES, x, at + 6 * L);
            a2 = next.fma(w2, odd.fma(w1, even.fma(w0, a2)));
            odd = FloatVector.fromArray(SPECIES, x, at + 7 * L);
            even = FloatVector.fromArray(SPECIES, x, at + 8 * L);
            a3 = even.fma(w2, odd.fma(w1, next.fma(w0, a3)));
            odd = FloatVector.fromArray(SPECIES, x, at + 9 * L);
            next = FloatVector.fromArray(SPECIES, x, at + 10 * L);
            a4 = next.fma(w2, odd.fma(w1, even.fma(w0, a4)));
            odd = FloatVector.fromArray(SPECIES, x, at + 11 * L);
            even = FloatVector.fromArray(SPECIES, x, at + 12 * L);
            a5 = even.fma(w2, odd.fma(w1, next.fma(w0, a5)));
            odd = FloatVector.fromArray(SPECIES, x, at + 13 * L);
            next = FloatVector.fromArray(SPECIES, x, at + 14 * L);
            a6 = next.fma(w2, odd.fma(w1, even.fma(w0, a6)));
            odd = FloatVector.fromArray(SPECIES, x, at + 15 * L);
            even = FloatVector.fromArray(SPECIES, x, at + 16 * L);
            a7 = even.fma(w2, odd.fma(w1, next.fma(w0, a7)));
        }
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

    /**
     * {@link #slidingGroup5} at stride 2: output p reads inputs 2p to 2p + 4, the last three of
     * them shared with output p + 1; 19 loads per filter row instead of 40.
     */
    private void slidingGroup5Stride2(float[] x, float[] y, int inPlane, int block, int top, int kyFirst, int kyEnd,
                                      int ox, int out, VectorMask<Float> padding) {
        FloatVector biasVector = FloatVector.fromArray(SPECIES, bias, block * L);
        FloatVector a0 = biasVector, a1 = biasVector, a2 = biasVector, a3 = biasVector;
        FloatVector a4 = biasVector, a5 = biasVector, a6 = biasVector, a7 = biasVector;
        int left = 2 * ox - padLeft;
        for (int ky = kyFirst; ky < kyEnd; ky++) {
            int at = inPlane + ((top + ky * dilationH) * width + left) * L;
            int tap = (block * kernelH + ky) * 5 * L;
            FloatVector w0 = FloatVector.fromArray(SPECIES, weights, tap);
            FloatVector w1 = FloatVector.fromArray(SPECIES, weights, tap + L);
            FloatVector w2 = FloatVector.fromArray(SPECIES, weights, tap + 2 * L);
            FloatVector w3 = FloatVector.fromArray(SPECIES, weights, tap + 3 * L);
            FloatVector w4 = FloatVector.fromArray(SPECIES, weights, tap + 4 * L);
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, at), x1 = FloatVector.fromArray(SPECIES, x, at + L);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, at + 2 * L), x3 = FloatVector.fromArray(SPECIES, x, at + 3 * L);
            FloatVector x4 = FloatVector.fromArray(SPECIES, x, at + 4 * L);
            a0 = x4.fma(w4, x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, a0)))));
            x0 = FloatVector.fromArray(SPECIES, x, at + 5 * L);
            x1 = FloatVector.fromArray(SPECIES, x, at + 6 * L);
            a1 = x1.fma(w4, x0.fma(w3, x4.fma(w2, x3.fma(w1, x2.fma(w0, a1)))));
            x2 = FloatVector.fromArray(SPECIES, x, at + 7 * L);
            x3 = FloatVector.fromArray(SPECIES, x, at + 8 * L);
            a2 = x3.fma(w4, x2.fma(w3, x1.fma(w2, x0.fma(w1, x4.fma(w0, a2)))));
            x4 = FloatVector.fromArray(SPECIES, x, at + 9 * L);
            x0 = FloatVector.fromArray(SPECIES, x, at + 10 * L);
            a3 = x0.fma(w4, x4.fma(w3, x3.fma(w2, x2.fma(w1, x1.fma(w0, a3)))));
            x1 = FloatVector.fromArray(SPECIES, x, at + 11 * L);
            x2 = FloatVector.fromArray(SPECIES, x, at + 12 * L);
            a4 = x2.fma(w4, x1.fma(w3, x0.fma(w2, x4.fma(w1, x3.fma(w0, a4)))));
            x3 = FloatVector.fromArray(SPECIES, x, at + 13 * L);
            x4 = FloatVector.fromArray(SPECIES, x, at + 14 * L);
            a5 = x4.fma(w4, x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, a5)))));
            x0 = FloatVector.fromArray(SPECIES, x, at + 15 * L);
            x1 = FloatVector.fromArray(SPECIES, x, at + 16 * L);
            a6 = x1.fma(w4, x0.fma(w3, x4.fma(w2, x3.fma(w1, x2.fma(w0, a6)))));
            x2 = FloatVector.fromArray(SPECIES, x, at + 17 * L);
            x3 = FloatVector.fromArray(SPECIES, x, at + 18 * L);
            a7 = x3.fma(w4, x2.fma(w3, x1.fma(w2, x0.fma(w1, x4.fma(w0, a7)))));
        }
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
        int kxFirst = firstTapColumn[ox], kxEnd = endTapColumn[ox];
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
