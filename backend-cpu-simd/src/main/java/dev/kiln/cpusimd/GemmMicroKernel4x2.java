package dev.kiln.cpusimd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two-block micro-kernels of {@link GemmMicroKernel} with a 4 x 2 register tile, for a vector
 * register file of 16 (AVX2, SSE; see {@link RegisterTiles}), where the 12 x 2 tile's 24
 * accumulators spill on every k. C2 issues all of a k step's broadcasts before its FMAs, so a tile
 * needs rows x 3 + 2 registers: 4 x 2 is 8 accumulators, two weight vectors and four broadcasts, 14
 * (6 x 2 was 20 and kept two accumulators on the stack, 1.2-2x slower than this one; read from C2's
 * code with {@code -XX:CompileCommand=print}). A caller covers a 12-row tile with three calls, so that
 * the tiling, the row clamping and the adjacency rules stay those of {@link GemmMicroKernel}; the
 * later calls read the same weights from L1. Same contracts as the methods named alike there.
 */
final class GemmMicroKernel4x2 {
    private static final VectorSpecies<Float> S = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    /** Rows of the tile. */
    static final int ROWS = 4;

    private GemmMicroKernel4x2() {
    }

    /** {@link GemmMicroKernel#wide} for 4 rows from {@code firstRow}. */
    static void wide(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                     float[] w, int weightsA, int weightsB, float[] c, int[] cRow, int cA, int cB) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cA);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cA);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cA);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cA);
        FloatVector b0 = FloatVector.fromArray(S, c, cRow[row0] + cB);
        FloatVector b1 = FloatVector.fromArray(S, c, cRow[row1] + cB);
        FloatVector b2 = FloatVector.fromArray(S, c, cRow[row2] + cB);
        FloatVector b3 = FloatVector.fromArray(S, c, cRow[row3] + cB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[chunk], end = taps.chunkStart[chunk + 1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < n; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p0 + k]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p1 + k]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p2 + k]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p3 + k]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        a0.intoArray(c, cRow[row0] + cA);
        a1.intoArray(c, cRow[row1] + cA);
        a2.intoArray(c, cRow[row2] + cA);
        a3.intoArray(c, cRow[row3] + cA);
        b0.intoArray(c, cRow[row0] + cB);
        b1.intoArray(c, cRow[row1] + cB);
        b2.intoArray(c, cRow[row2] + cB);
        b3.intoArray(c, cRow[row3] + cB);
    }

    /** {@link GemmMicroKernel#wideFinal} for 4 rows from {@code firstRow}. */
    static void wideFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                          float[] low, float[] high,
                          float[] c, int[] cRow, int cA, int cB) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < n; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p0 + k]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p1 + k]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p2 + k]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p3 + k]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        FloatVector loA = FloatVector.fromArray(S, low, biasA);
        FloatVector hiA = FloatVector.fromArray(S, high, biasA);
        FloatVector loB = FloatVector.fromArray(S, low, biasB);
        FloatVector hiB = FloatVector.fromArray(S, high, biasB);
        a0.max(loA).min(hiA).intoArray(c, cRow[row0] + cA);
        a1.max(loA).min(hiA).intoArray(c, cRow[row1] + cA);
        a2.max(loA).min(hiA).intoArray(c, cRow[row2] + cA);
        a3.max(loA).min(hiA).intoArray(c, cRow[row3] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[row0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[row1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[row2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[row3] + cB);
    }

    /** {@link GemmMicroKernel#wideFinalAdjacent} for 4 rows one NCHWc pixel apart. */
    static void wideFinalAdjacent(float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                  float[] low, float[] high,
                                  float[] c, int[] cRow, int firstRow, int cA, int cB) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            for (int k = 0; k < n; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p + k + 0 * L]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p + k + 1 * L]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p + k + 2 * L]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p + k + 3 * L]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        FloatVector loA = FloatVector.fromArray(S, low, biasA);
        FloatVector hiA = FloatVector.fromArray(S, high, biasA);
        FloatVector loB = FloatVector.fromArray(S, low, biasB);
        FloatVector hiB = FloatVector.fromArray(S, high, biasB);
        a0.max(loA).min(hiA).intoArray(c, cRow[firstRow + 0] + cA);
        a1.max(loA).min(hiA).intoArray(c, cRow[firstRow + 1] + cA);
        a2.max(loA).min(hiA).intoArray(c, cRow[firstRow + 2] + cA);
        a3.max(loA).min(hiA).intoArray(c, cRow[firstRow + 3] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[firstRow + 0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[firstRow + 1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[firstRow + 2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[firstRow + 3] + cB);
    }

    /**
     * As {@link #wideFinalAdjacent} where every tap is one whole channel block ({@link
     * ReductionTaps#wholeBlocks}, a 1x1 convolution): the k loop's trip count is the constant
     * {@code L}, which C2 unrolls.
     */
    static void wideFinalAdjacentWholeBlocks(float[] x, int firstInput, ReductionTaps taps,
                                             float[] w, int weightsA, int weightsB, float[] bias, int biasA,
                                             int biasB, float[] low, float[] high,
                                             float[] c, int[] cRow, int firstRow, int cA, int cB) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int[] offset = taps.offset, firstK = taps.firstK;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            for (int k = 0; k < L; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p + k + 0 * L]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p + k + 1 * L]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p + k + 2 * L]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p + k + 3 * L]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        FloatVector loA = FloatVector.fromArray(S, low, biasA);
        FloatVector hiA = FloatVector.fromArray(S, high, biasA);
        FloatVector loB = FloatVector.fromArray(S, low, biasB);
        FloatVector hiB = FloatVector.fromArray(S, high, biasB);
        a0.max(loA).min(hiA).intoArray(c, cRow[firstRow + 0] + cA);
        a1.max(loA).min(hiA).intoArray(c, cRow[firstRow + 1] + cA);
        a2.max(loA).min(hiA).intoArray(c, cRow[firstRow + 2] + cA);
        a3.max(loA).min(hiA).intoArray(c, cRow[firstRow + 3] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[firstRow + 0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[firstRow + 1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[firstRow + 2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[firstRow + 3] + cB);
    }

    /**
     * {@link #wideFinalAdjacentWholeBlocks} with a residual add in registers: each sum is clipped to
     * [low1, high1], added to {@code residual} at its own place in {@code c} (a blocked output,
     * the residual laid out alike), clipped to [low2, high2] and stored once (the bounds of {@link
     * Epilogue#registerBounds()}). A separate pass after the store read every output back; on
     * ResNet-50's 1x1 layers with a residual that cost up to a third of the layer under {@code
     * -XX:UseAVX=2}. Full column blocks only: padding lanes are not masked here.
     */
    static void wideFinalAdjacentWholeBlocksResidual(float[] x, int firstInput, ReductionTaps taps,
                                                     float[] w, int weightsA, int weightsB, float[] bias, int biasA,
                                                     int biasB, float low1, float high1, float[] residual,
                                                     float low2, float high2,
                                                     float[] c, int[] cRow, int firstRow, int cA, int cB) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int[] offset = taps.offset, firstK = taps.firstK;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            for (int k = 0; k < L; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p + k + 0 * L]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p + k + 1 * L]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p + k + 2 * L]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p + k + 3 * L]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        int at0 = cRow[firstRow + 0];
        int at1 = cRow[firstRow + 1];
        int at2 = cRow[firstRow + 2];
        int at3 = cRow[firstRow + 3];
        a0.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at0 + cA)).max(low2).min(high2)
                .intoArray(c, at0 + cA);
        a1.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at1 + cA)).max(low2).min(high2)
                .intoArray(c, at1 + cA);
        a2.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at2 + cA)).max(low2).min(high2)
                .intoArray(c, at2 + cA);
        a3.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at3 + cA)).max(low2).min(high2)
                .intoArray(c, at3 + cA);
        b0.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at0 + cB)).max(low2).min(high2)
                .intoArray(c, at0 + cB);
        b1.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at1 + cB)).max(low2).min(high2)
                .intoArray(c, at1 + cB);
        b2.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at2 + cB)).max(low2).min(high2)
                .intoArray(c, at2 + cB);
        b3.max(low1).min(high1).add(FloatVector.fromArray(S, residual, at3 + cB)).max(low2).min(high2)
                .intoArray(c, at3 + cB);
    }

    /**
     * As {@link #wideFinalAdjacent} where every tap is whole channel blocks ({@link
     * ReductionTaps#blockLengths}, e.g. a KxK convolution's rows of kw blocks): the k loop runs block
     * by block to the constant {@code L}, which C2 unrolls. 3x3 64->64 at 56x56 under {@code
     * -XX:UseAVX=2}: 4.4 -> 2.9 ms. Not for one-block taps (1x1), where the block loop's one trip cost
     * a quarter of {@link #wideFinalAdjacentWholeBlocks}'s speed, nor for the rows that are not
     * adjacent ({@link #wide}, {@link #wideFinal}), where the same loop measured 0-9% slower.
     */
    static void wideFinalAdjacentBlocks(float[] x, int firstInput, ReductionTaps taps,
                                        float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                        float[] low, float[] high,
                                        float[] c, int[] cRow, int firstRow, int cA, int cB) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int n = length[t];
            for (int kb = 0; kb < n; kb += L) {
                int p = firstInput + offset[t] + kb;
                int wa = weightsA + (firstK[t] + kb) * L, wb = weightsB + (firstK[t] + kb) * L;
                for (int k = 0; k < L; k++) {
                    FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                    FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                    FloatVector v;
                    v = FloatVector.broadcast(S, x[p + k + 0 * L]);
                    a0 = v.fma(va, a0);
                    b0 = v.fma(vb, b0);
                    v = FloatVector.broadcast(S, x[p + k + 1 * L]);
                    a1 = v.fma(va, a1);
                    b1 = v.fma(vb, b1);
                    v = FloatVector.broadcast(S, x[p + k + 2 * L]);
                    a2 = v.fma(va, a2);
                    b2 = v.fma(vb, b2);
                    v = FloatVector.broadcast(S, x[p + k + 3 * L]);
                    a3 = v.fma(va, a3);
                    b3 = v.fma(vb, b3);
                }
            }
        }
        FloatVector loA = FloatVector.fromArray(S, low, biasA);
        FloatVector hiA = FloatVector.fromArray(S, high, biasA);
        FloatVector loB = FloatVector.fromArray(S, low, biasB);
        FloatVector hiB = FloatVector.fromArray(S, high, biasB);
        a0.max(loA).min(hiA).intoArray(c, cRow[firstRow + 0] + cA);
        a1.max(loA).min(hiA).intoArray(c, cRow[firstRow + 1] + cA);
        a2.max(loA).min(hiA).intoArray(c, cRow[firstRow + 2] + cA);
        a3.max(loA).min(hiA).intoArray(c, cRow[firstRow + 3] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[firstRow + 0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[firstRow + 1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[firstRow + 2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[firstRow + 3] + cB);
    }

    /**
     * As {@link #wide} where every tap is one whole channel block ({@link ReductionTaps#wholeBlocks},
     * a 1x1 convolution): the k loop runs to the constant {@code L}, which C2 unrolls. 1x1 2048->512
     * at 7x7, whose K takes two chunks, under {@code -XX:UseAVX=2}: 56 -> 59 GFLOP/s on one core.
     */
    static void wideWholeBlocks(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                                float[] w, int weightsA, int weightsB, float[] c, int[] cRow, int cA, int cB) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cA);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cA);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cA);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cA);
        FloatVector b0 = FloatVector.fromArray(S, c, cRow[row0] + cB);
        FloatVector b1 = FloatVector.fromArray(S, c, cRow[row1] + cB);
        FloatVector b2 = FloatVector.fromArray(S, c, cRow[row2] + cB);
        FloatVector b3 = FloatVector.fromArray(S, c, cRow[row3] + cB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK;
        for (int t = taps.chunkStart[chunk], end = taps.chunkStart[chunk + 1]; t < end; t++) {
            int o = offset[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < L; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p0 + k]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p1 + k]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p2 + k]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p3 + k]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        a0.intoArray(c, cRow[row0] + cA);
        a1.intoArray(c, cRow[row1] + cA);
        a2.intoArray(c, cRow[row2] + cA);
        a3.intoArray(c, cRow[row3] + cA);
        b0.intoArray(c, cRow[row0] + cB);
        b1.intoArray(c, cRow[row1] + cB);
        b2.intoArray(c, cRow[row2] + cB);
        b3.intoArray(c, cRow[row3] + cB);
    }

    /**
     * As {@link #wideFinal} where every tap is one whole channel block (a 1x1 convolution whose rows
     * are not adjacent, e.g. at stride 2): see {@link #wideWholeBlocks}. 1x1 s2 512->1024 at 28x28:
     * 56-58 -> 63 GFLOP/s.
     */
    static void wideFinalWholeBlocks(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                                     float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                     float[] low, float[] high,
                                     float[] c, int[] cRow, int cA, int cB) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int o = offset[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < L; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p0 + k]);
                a0 = v.fma(va, a0);
                b0 = v.fma(vb, b0);
                v = FloatVector.broadcast(S, x[p1 + k]);
                a1 = v.fma(va, a1);
                b1 = v.fma(vb, b1);
                v = FloatVector.broadcast(S, x[p2 + k]);
                a2 = v.fma(va, a2);
                b2 = v.fma(vb, b2);
                v = FloatVector.broadcast(S, x[p3 + k]);
                a3 = v.fma(va, a3);
                b3 = v.fma(vb, b3);
            }
        }
        FloatVector loA = FloatVector.fromArray(S, low, biasA);
        FloatVector hiA = FloatVector.fromArray(S, high, biasA);
        FloatVector loB = FloatVector.fromArray(S, low, biasB);
        FloatVector hiB = FloatVector.fromArray(S, high, biasB);
        a0.max(loA).min(hiA).intoArray(c, cRow[row0] + cA);
        a1.max(loA).min(hiA).intoArray(c, cRow[row1] + cA);
        a2.max(loA).min(hiA).intoArray(c, cRow[row2] + cA);
        a3.max(loA).min(hiA).intoArray(c, cRow[row3] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[row0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[row1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[row2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[row3] + cB);
    }
}
