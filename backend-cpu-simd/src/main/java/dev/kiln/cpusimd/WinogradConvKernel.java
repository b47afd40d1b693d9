package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.PreparedWeights;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * A 3x3 stride-1 convolution by Winograd's F(2x2, 3x3): the input is cut into 4x4 tiles that
 * overlap by two pixels, each tile and each filter is transformed (d -> B'dB, g -> GgG'), and a
 * 2x2 output tile is A'(U .* V)A. The element-wise products summed over input channels are 16
 * independent GEMMs (tiles x input channels, times input x output channels), which run on the
 * same micro-kernels as every other convolution: 16 multiply-adds per output pair instead of 36.
 * The price is three passes over memory (the transformed tiles are 4x the input, the products 4x
 * the output), so it wins only on large layers with many channels, where the GEMMs dominate
 * ({@link #wins}: with AVX-512's 32 registers VGG-16's 256- and 512-channel layers at 56x56 and
 * 28x28; with AVX2's 16, where the direct GEMM's tile is smaller, from 128 channels at 14x14).
 *
 * <p>The transformed tiles of position p are laid out as an NCHWc image of {@code tiles} pixels
 * (and the products likewise), so the GEMM of position p is a 1x1 convolution over it, its rows
 * one pixel apart ({@link GemmMicroKernel#wideFinalAdjacent}). Input, output and transform
 * matrices as in Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2016);
 * with these small integers and halves, F(2x2, 3x3) in float32 keeps within the accuracy bar.
 */
public final class WinogradConvKernel implements SimdKernel {
    private static final VectorSpecies<Float> S = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;
    private static final int WIDE = GemmMicroKernel.WIDE_ROWS;
    /** Positions of a transformed 4x4 tile. */
    private static final int POSITIONS = 16;

    private final int batch, inBlocks, outBlocks, outH, outW, tilesH, tilesW, tiles;
    private final PaddedInput padded;
    /** Taps of the GEMM of one position: a 1x1 convolution over an NCHWc image of {@link #tiles} pixels. */
    private final ReductionTaps taps;
    /** Per position, the transformed filters packed as a 1x1 convolution's weights. */
    private final PackedConvWeights[] transformed;
    private final float[] bias;
    /** The GEMMs' own bias and bounds: zero, and no clip; the epilogue comes after the output transform. */
    private final float[] zeros, noLow, noHigh;
    /** Tile r's offset in a position's products: r pixels of one lane block. */
    private final int[] tileOffset;
    private final Epilogue epilogue;
    private final float[] bounds;
    private final VectorMask<Float> lastBlockLanes;
    private final int lastBlockReal;
    private final boolean lastBlockPartial;
    private final String algorithm;
    /** The GEMMs' register tile. */
    private final RegisterTiles registers;

    public WinogradConvKernel(BoundNode node, PreparedWeights prepared) {
        this(node, prepared, RegisterTiles.MACHINE);
    }

    /** As {@link #WinogradConvKernel(BoundNode, PreparedWeights)} with the register tile of {@code registers}. */
    WinogradConvKernel(BoundNode node, PreparedWeights prepared, RegisterTiles registers) {
        this.registers = registers;
        String reason = unsupportedReason(node);
        if (reason != null) {
            throw new IllegalArgumentException(node.node().describe() + ": " + reason);
        }
        Conv conv = (Conv) node.op();
        Shape xs = node.inputShape(0), ys = node.outputShape();
        Window w = conv.window().resolve(xs);
        batch = xs.dim(0);
        int channels = xs.dim(1), height = xs.dim(2), width = xs.dim(3);
        int outChannels = ys.dim(1);
        inBlocks = BlockedLayout.blocks(channels);
        outBlocks = BlockedLayout.blocks(outChannels);
        outH = ys.dim(2);
        outW = ys.dim(3);
        tilesH = Math.ceilDiv(outH, 2);
        tilesW = Math.ceilDiv(outW, 2);
        tiles = batch * tilesH * tilesW;
        // Bottom and right padding grow so that the last tiles' 4x4 windows lie inside the copy.
        padded = new PaddedInput(batch, channels, height, width, w.padTop(), w.padLeft(),
                2 * tilesH + 2 - height - w.padTop(), 2 * tilesW + 2 - width - w.padLeft());
        taps = ReductionTaps.forConv(channels, 1, tiles, L, 1, 1, 1, 1);
        float[] weights = node.constant(1).toFloatArray();
        transformed = prepared.get(CpuSimdBackend.ID + ":" + node.name() + ":winograd",
                () -> transformFilters(weights, outChannels, channels),
                t -> Arrays.stream(t).mapToLong(PackedConvWeights::bytes).sum());
        bias = ChannelPacking.blocked(ChannelPacking.values(node.constant(2)), outChannels);
        zeros = new float[outBlocks * L];
        noLow = new float[outBlocks * L];
        noHigh = new float[outBlocks * L];
        Arrays.fill(noLow, Float.NEGATIVE_INFINITY);
        Arrays.fill(noHigh, Float.POSITIVE_INFINITY);
        tileOffset = new int[tiles];
        for (int r = 0; r < tiles; r++) {
            tileOffset[r] = r * L;
        }
        epilogue = Epilogue.of(conv.postOps());
        bounds = epilogue.registerBounds();
        lastBlockReal = outChannels - (outBlocks - 1) * L;
        lastBlockLanes = S.indexInRange(0, lastBlockReal);
        lastBlockPartial = lastBlockReal != L;
        String fused = epilogue.describe();
        algorithm = "3x3 conv as Winograd F(2x2,3x3): " + tiles + " tiles, 16 GEMMs K=" + taps.depth
                + " (" + registers.describe() + ")"
                + (fused.isEmpty() ? "" : ", epilogue " + fused);
    }

    /**
     * With 32 vector registers (AVX-512), fewer input channels than this and the transforms' memory
     * traffic outweighs the GEMMs' saving inside a network. Measured per node in whole-network runs
     * on two threads (`kiln bench --profile`): VGG-16's 512-channel 28x28 layers 14.0 -> 10.9 ms and
     * 256-channel 56x56 ones 14.3 -> 12.8 ms, but GoogLeNet's 128-channel 28x28 and 14x14 layers 1.4
     * -> 2.0 ms and 0.5 -> 0.8 ms and ResNet-50's 256-channel 14x14 ones 0.93 -> 0.97 ms. (The kernel
     * alone on one core, its data in cache, was 1.5x faster from 128 channels up: in a network it is
     * not.)
     */
    static final int MIN_CHANNELS = 256;
    /** Fewer tiles than this (a 28x28 output at batch 1): see {@link #MIN_CHANNELS}. */
    static final int MIN_TILES = 196;
    /**
     * {@link #MIN_CHANNELS} with 16 vector registers (AVX2): there the direct GEMM's 4 x 2 tile
     * reaches 50-65 GFLOP/s of a 75-85 peak on one core, so the 2.25x fewer multiply-adds weigh
     * more than the transforms' traffic. ResNet-50 under {@code -XX:UseAVX=2}, one thread, per
     * node in whole-network runs ({@code kiln bench --profile}, alternating runs): 128 channels at
     * 28x28 3.8 -> 2.1 ms, 256 at 14x14 4.0 -> 2.4 ms; 64 at 56x56 3.7 -> 3.3 ms on one thread but
     * no clear gain on two; 512 at 7x7 (16 tiles) 4.8 -> 4.9-5.1 ms. Alone in cache, one core:
     * 0.54-0.56x the GEMM's time from 96 channels up at 28x28 and 14x14 ({@code WinogradBenchmark}).
     */
    static final int MIN_CHANNELS_16_REGISTERS = 128;
    /** Fewer tiles than this (a 14x14 output at batch 1) with 16 vector registers: see {@link #MIN_CHANNELS_16_REGISTERS}. */
    static final int MIN_TILES_16_REGISTERS = 49;

    /** Whether this kernel beats {@link ConvGemmKernel} on the node on this machine: see {@link #wins(BoundNode, RegisterTiles)}. */
    public static boolean wins(BoundNode node) {
        return wins(node, RegisterTiles.MACHINE);
    }

    /**
     * Whether this kernel beats {@link ConvGemmKernel}'s tile for {@code registers} on the node: from
     * {@link #MIN_CHANNELS} input channels and {@link #MIN_TILES} output tiles with 32 registers,
     * from {@link #MIN_CHANNELS_16_REGISTERS} and {@link #MIN_TILES_16_REGISTERS} with fewer.
     */
    static boolean wins(BoundNode node, RegisterTiles registers) {
        if (unsupportedReason(node) != null) {
            return false;
        }
        Shape ys = node.outputShape();
        long tiles = (long) ys.dim(0) * Math.ceilDiv(ys.dim(2), 2) * Math.ceilDiv(ys.dim(3), 2);
        boolean wide = registers.vectorRegisters() >= 32;
        return node.inputShape(0).dim(1) >= (wide ? MIN_CHANNELS : MIN_CHANNELS_16_REGISTERS)
                && tiles >= (wide ? MIN_TILES : MIN_TILES_16_REGISTERS);
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Conv conv)) {
            return "not a Conv";
        }
        Shape xs = node.inputShape(0);
        if (xs.rank() != 4) {
            return "input is not rank 4";
        }
        Window w = conv.window().resolve(xs);
        if (w.kernelH() != 3 || w.kernelW() != 3 || w.strideH() != 1 || w.strideW() != 1 || w.dilationH() != 1
                || w.dilationW() != 1) {
            return "not a 3x3 stride-1 undilated window";
        }
        if (conv.groups() != 1) {
            return "grouped";
        }
        if (PaddedInput.compacts(xs.dim(1))) {
            return "fewer than " + L + " input channels";
        }
        if (BlockedLayout.blocks(xs.dim(1)) * L > ReductionTaps.CHUNK_K) {
            return "more than " + ReductionTaps.CHUNK_K + " input channels";
        }
        Shape ys = node.outputShape();
        if ((long) xs.dim(0) * Math.ceilDiv(ys.dim(2), 2) * Math.ceilDiv(ys.dim(3), 2) < WIDE) {
            return "fewer than " + WIDE + " output tiles";
        }
        if (!node.isConstant(1)) {
            return "weights are not a constant";
        }
        if (node.inputShape(2) != null && !node.isConstant(2)) {
            return "bias is not a constant";
        }
        return null;
    }

    /** U = G g G' per (output, input) channel pair, as 16 1x1 convolutions' packed weights. */
    private static PackedConvWeights[] transformFilters(float[] g, int outChannels, int inChannels) {
        float[][] byPosition = new float[POSITIONS][outChannels * inChannels];
        float[] t = new float[12];
        for (int m = 0; m < outChannels; m++) {
            for (int c = 0; c < inChannels; c++) {
                int at = (m * inChannels + c) * 9;
                // G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 (4 x 3).
                for (int j = 0; j < 3; j++) {
                    float g0 = g[at + j], g1 = g[at + 3 + j], g2 = g[at + 6 + j];
                    t[j] = g0;
                    t[3 + j] = (g0 + g1 + g2) * 0.5f;
                    t[6 + j] = (g0 - g1 + g2) * 0.5f;
                    t[9 + j] = g2;
                }
                // (G g) G': the same on each row.
                for (int i = 0; i < 4; i++) {
                    float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
                    int pair = m * inChannels + c;
                    byPosition[4 * i][pair] = t0;
                    byPosition[4 * i + 1][pair] = (t0 + t1 + t2) * 0.5f;
                    byPosition[4 * i + 2][pair] = (t0 - t1 + t2) * 0.5f;
                    byPosition[4 * i + 3][pair] = t2;
                }
            }
        }
        PackedConvWeights[] packed = new PackedConvWeights[POSITIONS];
        for (int p = 0; p < POSITIONS; p++) {
            packed[p] = PackedConvWeights.forConv(byPosition[p], null, outChannels, inChannels, 1, 1, 1);
        }
        return packed;
    }

    @Override
    public String algorithm() {
        return algorithm;
    }

    private long tileFloats() {
        return (long) POSITIONS * inBlocks * tiles * L;
    }

    private long productFloats() {
        return (long) POSITIONS * outBlocks * tiles * L;
    }

    @Override
    public long scratchFloats() {
        return padded.floats() + tileFloats() + productFloats();
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        float[] residual = inputs.length > 3 ? inputs[3] : null;
        int v = Math.toIntExact(padded.floats()), m = Math.toIntExact(v + tileFloats());
        padded.copy(x, scratch, threads);
        threads.parallelFor(batch * inBlocks * tilesH, task -> {
            int image = task / (inBlocks * tilesH), block = task / tilesH % inBlocks, ty = task % tilesH;
            for (int tx = 0; tx < tilesW; tx++) {
                transformTile(scratch, v, image, block, ty, tx);
            }
        });
        threads.parallelFor(POSITIONS, position -> multiply(scratch, v, m, position));
        threads.parallelFor(batch * outBlocks * tilesH, task -> {
            int image = task / (outBlocks * tilesH), block = task / tilesH % outBlocks, ty = task % tilesH;
            for (int tx = 0; tx < tilesW; tx++) {
                outputTile(scratch, m, y, residual, image, block, ty, tx);
            }
        });
    }

    /** V = B' d B for one tile of one channel block: d's columns first, then the rows of the result. */
    private void transformTile(float[] s, int v, int image, int block, int ty, int tx) {
        int plane = image * inBlocks + block;
        int d = ((plane * padded.paddedHeight + 2 * ty) * padded.paddedWidth + 2 * tx) * L;
        int rowStride = padded.paddedWidth * L;
        int r = (image * tilesH + ty) * tilesW + tx;
        int position = inBlocks * tiles * L;
        int out = v + block * tiles * L + r * L;
        // B' = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], applied to each column j of d.
        for (int j = 0; j < 4; j++) {
            FloatVector d0 = FloatVector.fromArray(S, s, d + j * L);
            FloatVector d1 = FloatVector.fromArray(S, s, d + rowStride + j * L);
            FloatVector d2 = FloatVector.fromArray(S, s, d + 2 * rowStride + j * L);
            FloatVector d3 = FloatVector.fromArray(S, s, d + 3 * rowStride + j * L);
            d0.sub(d2).intoArray(s, out + j * position);
            d1.add(d2).intoArray(s, out + (4 + j) * position);
            d2.sub(d1).intoArray(s, out + (8 + j) * position);
            d1.sub(d3).intoArray(s, out + (12 + j) * position);
        }
        // ... and B on the right: the same combination along each row i.
        for (int i = 0; i < 4; i++) {
            int row = out + 4 * i * position;
            FloatVector t0 = FloatVector.fromArray(S, s, row);
            FloatVector t1 = FloatVector.fromArray(S, s, row + position);
            FloatVector t2 = FloatVector.fromArray(S, s, row + 2 * position);
            FloatVector t3 = FloatVector.fromArray(S, s, row + 3 * position);
            t0.sub(t2).intoArray(s, row);
            t1.add(t2).intoArray(s, row + position);
            t2.sub(t1).intoArray(s, row + 2 * position);
            t1.sub(t3).intoArray(s, row + 3 * position);
        }
    }

    /**
     * The GEMM of one position: twelve tiles at a time (their transformed inputs stay in L1)
     * against every output block (the position's filters, in L2).
     */
    private void multiply(float[] s, int v, int m, int position) {
        PackedConvWeights w = transformed[position];
        int tilesIn = v + position * inBlocks * tiles * L;
        int products = m + position * outBlocks * tiles * L;
        for (int first = 0; first < tiles; first += WIDE) {
            // The last group of 12 moves back to end at the last tile: it recomputes a few tiles.
            int at = Math.min(first, tiles - WIDE);
            for (int block = 0; block < outBlocks; block += 2) {
                if (block + 1 < outBlocks) {
                    GemmMicroKernel.wideFinalAdjacent(registers, s, tilesIn + at * L, taps, w.weights, w.blockOffset(block),
                            w.blockOffset(block + 1), zeros, block * L, (block + 1) * L, noLow, noHigh, s,
                            tileOffset, at, products + block * tiles * L, products + (block + 1) * tiles * L);
                } else {
                    GemmMicroKernel.tallFinalAdjacent(registers, s, tilesIn + at * L, taps, w.weights, w.blockOffset(block),
                            zeros, block * L, noLow, noHigh, s, tileOffset, at, products + block * tiles * L);
                }
            }
        }
    }

    /** Y = A' M A for one tile of one output block (A' = [1 1 1 0; 0 1 -1 -1]), then bias and epilogue. */
    private void outputTile(float[] s, int m, float[] y, float[] residual, int image, int block, int ty, int tx) {
        int r = (image * tilesH + ty) * tilesW + tx;
        int position = outBlocks * tiles * L;
        int at = m + block * tiles * L + r * L;
        FloatVector m0 = FloatVector.fromArray(S, s, at);
        FloatVector m1 = FloatVector.fromArray(S, s, at + position);
        FloatVector m2 = FloatVector.fromArray(S, s, at + 2 * position);
        FloatVector m3 = FloatVector.fromArray(S, s, at + 3 * position);
        FloatVector m4 = FloatVector.fromArray(S, s, at + 4 * position);
        FloatVector m5 = FloatVector.fromArray(S, s, at + 5 * position);
        FloatVector m6 = FloatVector.fromArray(S, s, at + 6 * position);
        FloatVector m7 = FloatVector.fromArray(S, s, at + 7 * position);
        FloatVector m8 = FloatVector.fromArray(S, s, at + 8 * position);
        FloatVector m9 = FloatVector.fromArray(S, s, at + 9 * position);
        FloatVector m10 = FloatVector.fromArray(S, s, at + 10 * position);
        FloatVector m11 = FloatVector.fromArray(S, s, at + 11 * position);
        FloatVector m12 = FloatVector.fromArray(S, s, at + 12 * position);
        FloatVector m13 = FloatVector.fromArray(S, s, at + 13 * position);
        FloatVector m14 = FloatVector.fromArray(S, s, at + 14 * position);
        FloatVector m15 = FloatVector.fromArray(S, s, at + 15 * position);
        // A' on the left: rows (m0 + m1 + m2) and (m1 - m2 - m3) of each column.
        FloatVector s00 = m0.add(m4).add(m8), s01 = m1.add(m5).add(m9);
        FloatVector s02 = m2.add(m6).add(m10), s03 = m3.add(m7).add(m11);
        FloatVector s10 = m4.sub(m8).sub(m12), s11 = m5.sub(m9).sub(m13);
        FloatVector s12 = m6.sub(m10).sub(m14), s13 = m7.sub(m11).sub(m15);
        FloatVector b = FloatVector.fromArray(S, bias, block * L);
        int oy = 2 * ty, ox = 2 * tx;
        int out = ((image * outBlocks + block) * outH + oy) * outW * L + ox * L;
        boolean right = ox + 1 < outW, below = oy + 1 < outH;
        // Sums stored first, the epilogue then applied from the array (in L1): a vector handed to
        // a method C2 does not inline is boxed on the heap.
        s00.add(s01).add(s02).add(b).intoArray(y, out);
        finish(y, residual, out, block);
        if (right) {
            s01.sub(s02).sub(s03).add(b).intoArray(y, out + L);
            finish(y, residual, out + L, block);
        }
        if (below) {
            s10.add(s11).add(s12).add(b).intoArray(y, out + outW * L);
            finish(y, residual, out + outW * L, block);
            if (right) {
                s11.sub(s12).sub(s13).add(b).intoArray(y, out + outW * L + L);
                finish(y, residual, out + outW * L + L, block);
            }
        }
    }

    /** The epilogue on the sum stored at {@code y[at]}, in place. */
    private void finish(float[] y, float[] residual, int at, int block) {
        FloatVector v = FloatVector.fromArray(S, y, at).max(bounds[0]).min(bounds[1]);
        if (epilogue.addsResidualInRegisters()) {
            v = v.add(FloatVector.fromArray(S, residual, at));
        }
        v = v.max(bounds[2]).min(bounds[3]);
        boolean partial = lastBlockPartial && block == outBlocks - 1;
        if (partial) {
            // Padding channels must stay zero, and an activation of zero need not be zero.
            v = FloatVector.zero(S).blend(v, lastBlockLanes);
        }
        v.intoArray(y, at);
        if (epilogue.hasRest()) {
            epilogue.applyRest(y, at, L, residual, partial ? lastBlockReal : L);
        }
    }
}
