package dev.kiln.cpusimd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one-block micro-kernels of {@link GemmMicroKernel} with a 6 x 1 register tile, for a vector
 * register file of 16 (AVX2, SSE; see {@link RegisterTiles}). The 12 x 1 tile's 12 accumulators,
 * its weight, the broadcasts C2 issues ahead of the FMAs and the twelve row indices (which C2 parks
 * in vector registers when the 16 general ones run out) spill there on every k; 6 x 1 fits. A
 * caller covers a 12-row tile with 2 calls, as with {@link GemmMicroKernel4x2}. Same contracts as
 * the methods named alike in {@link GemmMicroKernel}.
 */
final class GemmMicroKernel6x1 {
    private static final VectorSpecies<Float> S = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    /** Rows of the tile. */
    static final int ROWS = 6;

    private GemmMicroKernel6x1() {
    }

    /** {@link GemmMicroKernel#tall} for 6 rows from {@code firstRow}. */
    static void tall(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                     float[] w, int weights, float[] c, int[] cRow, int cBlock) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cBlock);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cBlock);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cBlock);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cBlock);
        FloatVector a4 = FloatVector.fromArray(S, c, cRow[row4] + cBlock);
        FloatVector a5 = FloatVector.fromArray(S, c, cRow[row5] + cBlock);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[chunk], end = taps.chunkStart[chunk + 1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            int p4 = x4 + o;
            int p5 = x5 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p4 + k]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p5 + k]).fma(vw, a5);
            }
        }
        a0.intoArray(c, cRow[row0] + cBlock);
        a1.intoArray(c, cRow[row1] + cBlock);
        a2.intoArray(c, cRow[row2] + cBlock);
        a3.intoArray(c, cRow[row3] + cBlock);
        a4.intoArray(c, cRow[row4] + cBlock);
        a5.intoArray(c, cRow[row5] + cBlock);
    }

    /** {@link GemmMicroKernel#tallFinal} for 6 rows from {@code firstRow}. */
    static void tallFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                          float[] c, int[] cRow, int cBlock) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            int p4 = x4 + o;
            int p5 = x5 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p4 + k]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p5 + k]).fma(vw, a5);
            }
        }
        FloatVector lo = FloatVector.fromArray(S, low, biasBlock);
        FloatVector hi = FloatVector.fromArray(S, high, biasBlock);
        a0.max(lo).min(hi).intoArray(c, cRow[row0] + cBlock);
        a1.max(lo).min(hi).intoArray(c, cRow[row1] + cBlock);
        a2.max(lo).min(hi).intoArray(c, cRow[row2] + cBlock);
        a3.max(lo).min(hi).intoArray(c, cRow[row3] + cBlock);
        a4.max(lo).min(hi).intoArray(c, cRow[row4] + cBlock);
        a5.max(lo).min(hi).intoArray(c, cRow[row5] + cBlock);
    }

    /** {@link GemmMicroKernel#tallFinalAdjacent} for 6 rows one NCHWc pixel apart. */
    static void tallFinalAdjacent(float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                                  float[] c, int[] cRow, int firstRow, int cBlock) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p + k + 0 * L]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p + k + 1 * L]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p + k + 2 * L]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p + k + 3 * L]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p + k + 4 * L]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p + k + 5 * L]).fma(vw, a5);
            }
        }
        FloatVector lo = FloatVector.fromArray(S, low, biasBlock);
        FloatVector hi = FloatVector.fromArray(S, high, biasBlock);
        a0.max(lo).min(hi).intoArray(c, cRow[firstRow + 0] + cBlock);
        a1.max(lo).min(hi).intoArray(c, cRow[firstRow + 1] + cBlock);
        a2.max(lo).min(hi).intoArray(c, cRow[firstRow + 2] + cBlock);
        a3.max(lo).min(hi).intoArray(c, cRow[firstRow + 3] + cBlock);
        a4.max(lo).min(hi).intoArray(c, cRow[firstRow + 4] + cBlock);
        a5.max(lo).min(hi).intoArray(c, cRow[firstRow + 5] + cBlock);
    }
}
