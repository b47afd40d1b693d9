package dev.kiln.cpusimd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-tiled GEMM micro-kernels: C[rows][column blocks] += A[rows][k] * B[k][column blocks]
 * over the taps of one chunk, where each row r of A is the input seen from its own base offset
 * (an output pixel's window origin) and B is packed [column block][k][lane].
 *
 * <p>The accumulators are plain locals so that C2 keeps them in vector registers: 12 rows x 2
 * blocks is 24 of the 32 AVX-512 registers, leaving room for two weight vectors and a
 * broadcast. With 16 registers (AVX2) that tile spills on every k: the overloads taking a
 * {@link RegisterTiles} cover the same 12 rows with three calls of {@link GemmMicroKernel4x2}'s
 * 4 x 2 tile there. The one-block tiles (12 x 1: 12 accumulators, a weight and a broadcast) fit
 * both. Every k costs two weight loads and 12 broadcasts for 24 FMAs; a lone column block
 * (an odd last one, or a layer of 16 channels) takes the 12 x 1 tile. Rows past the
 * tile's end repeat {@code lastRow}: the duplicates compute and store the same values to the
 * same place, which is cheaper than a branchy remainder kernel.
 *
 * <p>When K is cut into several chunks, {@link #wide} and {@link #narrow} only accumulate into C
 * (loads at the start, stores at the end); the caller primes C with the bias before the first
 * chunk and applies the epilogue after the last. When all of K is one chunk (most layers), the
 * {@code Final} variants start from the bias and apply the in-register epilogue before their one
 * store, so the output is written once and never read back. Separate methods rather than flags,
 * to keep each small enough for C2 to compile whole and its k loop free of branches.
 */
final class GemmMicroKernel {
    private static final VectorSpecies<Float> S = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    /** Rows of the wide tile. */
    static final int WIDE_ROWS = 12;
    /** Rows of the narrow tile, for the rows left over. */
    static final int NARROW_ROWS = 4;

    private GemmMicroKernel() {
    }

    /** {@link #wide} with {@code tile}'s register tile: one 12-row call or three 4-row ones. */
    static void wide(RegisterTiles tile, float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                     int chunk, float[] w, int weightsA, int weightsB, float[] c, int[] cRow, int cA, int cB) {
        if (tile.pairRows() == WIDE_ROWS) {
            wide(x, xRow, firstRow, lastRow, taps, chunk, w, weightsA, weightsB, c, cRow, cA, cB);
            return;
        }
        if (taps.wholeBlocks) {
            // One-block taps (a 1x1 convolution whose K takes several chunks): the k loop runs to the
            // constant L, which C2 unrolls, as in wideFinalAdjacent.
            for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
                GemmMicroKernel4x2.wideWholeBlocks(x, xRow, r, lastRow, taps, chunk, w, weightsA, weightsB, c,
                        cRow, cA, cB);
            }
            return;
        }
        for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
            GemmMicroKernel4x2.wide(x, xRow, r, lastRow, taps, chunk, w, weightsA, weightsB, c, cRow, cA, cB);
        }
    }

    /** {@link #wideFinal} with {@code tile}'s register tile: one 12-row call or three 4-row ones. */
    static void wideFinal(RegisterTiles tile, float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                          float[] low, float[] high, float[] c, int[] cRow, int cA, int cB) {
        if (tile.pairRows() == WIDE_ROWS) {
            wideFinal(x, xRow, firstRow, lastRow, taps, w, weightsA, weightsB, bias, biasA, biasB, low, high,
                    c, cRow, cA, cB);
            return;
        }
        if (taps.wholeBlocks) {
            // One-block taps on rows that are not adjacent (a strided 1x1 convolution): as in wide.
            for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
                GemmMicroKernel4x2.wideFinalWholeBlocks(x, xRow, r, lastRow, taps, w, weightsA, weightsB, bias,
                        biasA, biasB, low, high, c, cRow, cA, cB);
            }
            return;
        }
        for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
            GemmMicroKernel4x2.wideFinal(x, xRow, r, lastRow, taps, w, weightsA, weightsB, bias, biasA, biasB,
                    low, high, c, cRow, cA, cB);
        }
    }

    /**
     * Whether {@code tile}'s two-block kernel holds a narrow tile's {@value #NARROW_ROWS} rows in one
     * call ({@link GemmMicroKernel4x2}, 16 registers): a short last tile of two column blocks then
     * takes {@link #narrowPair} rather than {@link #narrow} once per block, whose four dependent
     * chains run at about half the FMA throughput.
     */
    static boolean pairsNarrowTiles(RegisterTiles tile) {
        return tile.pairRows() == NARROW_ROWS;
    }

    /** {@link #wide} for the {@value #NARROW_ROWS} rows from {@code firstRow}, where {@link #pairsNarrowTiles}. */
    static void narrowPair(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                           float[] w, int weightsA, int weightsB, float[] c, int[] cRow, int cA, int cB) {
        if (taps.wholeBlocks) {
            GemmMicroKernel4x2.wideWholeBlocks(x, xRow, firstRow, lastRow, taps, chunk, w, weightsA, weightsB, c,
                    cRow, cA, cB);
        } else {
            GemmMicroKernel4x2.wide(x, xRow, firstRow, lastRow, taps, chunk, w, weightsA, weightsB, c, cRow, cA, cB);
        }
    }

    /** {@link #wideFinal} for the {@value #NARROW_ROWS} rows from {@code firstRow}, where {@link #pairsNarrowTiles}. */
    static void narrowPairFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                                float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                float[] low, float[] high, float[] c, int[] cRow, int cA, int cB) {
        if (taps.wholeBlocks) {
            GemmMicroKernel4x2.wideFinalWholeBlocks(x, xRow, firstRow, lastRow, taps, w, weightsA, weightsB, bias,
                    biasA, biasB, low, high, c, cRow, cA, cB);
        } else {
            GemmMicroKernel4x2.wideFinal(x, xRow, firstRow, lastRow, taps, w, weightsA, weightsB, bias, biasA, biasB,
                    low, high, c, cRow, cA, cB);
        }
    }

    /** {@link #tall} with {@code tile}'s register tile: one 12-row call or two 6-row ones. */
    static void tall(RegisterTiles tile, float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                     int chunk, float[] w, int weights, float[] c, int[] cRow, int cBlock) {
        if (tile.singleRows() == WIDE_ROWS) {
            tall(x, xRow, firstRow, lastRow, taps, chunk, w, weights, c, cRow, cBlock);
            return;
        }
        for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel6x1.ROWS) {
            GemmMicroKernel6x1.tall(x, xRow, r, lastRow, taps, chunk, w, weights, c, cRow, cBlock);
        }
    }

    /** {@link #tallFinal} with {@code tile}'s register tile: one 12-row call or two 6-row ones. */
    static void tallFinal(RegisterTiles tile, float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                          float[] c, int[] cRow, int cBlock) {
        if (tile.singleRows() == WIDE_ROWS) {
            tallFinal(x, xRow, firstRow, lastRow, taps, w, weights, bias, biasBlock, low, high, c, cRow, cBlock);
            return;
        }
        for (int r = firstRow; r < firstRow + WIDE_ROWS; r += GemmMicroKernel6x1.ROWS) {
            GemmMicroKernel6x1.tallFinal(x, xRow, r, lastRow, taps, w, weights, bias, biasBlock, low, high, c, cRow,
                    cBlock);
        }
    }

    /** {@link #tallFinalAdjacent} with {@code tile}'s register tile: one 12-row call or two 6-row ones. */
    static void tallFinalAdjacent(RegisterTiles tile, float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                                  float[] c, int[] cRow, int firstRow, int cBlock) {
        if (tile.singleRows() == WIDE_ROWS) {
            tallFinalAdjacent(x, firstInput, taps, w, weights, bias, biasBlock, low, high, c, cRow, firstRow, cBlock);
            return;
        }
        for (int r = 0; r < WIDE_ROWS; r += GemmMicroKernel6x1.ROWS) {
            GemmMicroKernel6x1.tallFinalAdjacent(x, firstInput + r * L, taps, w, weights, bias, biasBlock, low, high,
                    c, cRow, firstRow + r, cBlock);
        }
    }

    /** {@link #wideFinalAdjacent} with {@code tile}'s register tile: one 12-row call or three 4-row ones. */
    static void wideFinalAdjacent(RegisterTiles tile, float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                  float[] low, float[] high, float[] c, int[] cRow, int firstRow, int cA, int cB) {
        if (tile.pairRows() == WIDE_ROWS) {
            wideFinalAdjacent(x, firstInput, taps, w, weightsA, weightsB, bias, biasA, biasB, low, high,
                    c, cRow, firstRow, cA, cB);
            return;
        }
        if (taps.wholeBlocks) {
            // A 1x1 convolution's taps are one block each, L k long: a constant trip count lets C2
            // unroll the k loop, which with 4 x 2's short body and L = 8 otherwise costs its loop
            // and tap overhead on every 8 FMAs (measured 2-2.6x on ResNet-50's 1x1 layers).
            for (int r = 0; r < WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
                GemmMicroKernel4x2.wideFinalAdjacentWholeBlocks(x, firstInput + r * L, taps, w, weightsA, weightsB,
                        bias, biasA, biasB, low, high, c, cRow, firstRow + r, cA, cB);
            }
            return;
        }
        if (taps.blockLengths) {
            // Taps of several whole blocks (a KxK convolution's rows of kw pixels): the same for each
            // block of the tap (3x3 64->64 at 56x56 1.5x).
            for (int r = 0; r < WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
                GemmMicroKernel4x2.wideFinalAdjacentBlocks(x, firstInput + r * L, taps, w, weightsA, weightsB,
                        bias, biasA, biasB, low, high, c, cRow, firstRow + r, cA, cB);
            }
            return;
        }
        for (int r = 0; r < WIDE_ROWS; r += GemmMicroKernel4x2.ROWS) {
            GemmMicroKernel4x2.wideFinalAdjacent(x, firstInput + r * L, taps, w, weightsA, weightsB, bias, biasA,
                    biasB, low, high, c, cRow, firstRow + r, cA, cB);
        }
    }

    /**
     * 12 rows from {@code firstRow} (clamped to {@code lastRow}) times column blocks at
     * {@code weightsA} and {@code weightsB} in {@code w}, accumulated into {@code c} at
     * {@code cRow[row] + cA} and {@code cRow[row] + cB}.
     */
    static void wide(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                     float[] w, int weightsA, int weightsB, float[] c, int[] cRow, int cA, int cB) {
        int row0 = firstRow;
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        int row6 = Math.min(firstRow + 6, lastRow);
        int row7 = Math.min(firstRow + 7, lastRow);
        int row8 = Math.min(firstRow + 8, lastRow);
        int row9 = Math.min(firstRow + 9, lastRow);
        int row10 = Math.min(firstRow + 10, lastRow);
        int row11 = Math.min(firstRow + 11, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cA);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cA);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cA);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cA);
        FloatVector a4 = FloatVector.fromArray(S, c, cRow[row4] + cA);
        FloatVector a5 = FloatVector.fromArray(S, c, cRow[row5] + cA);
        FloatVector a6 = FloatVector.fromArray(S, c, cRow[row6] + cA);
        FloatVector a7 = FloatVector.fromArray(S, c, cRow[row7] + cA);
        FloatVector a8 = FloatVector.fromArray(S, c, cRow[row8] + cA);
        FloatVector a9 = FloatVector.fromArray(S, c, cRow[row9] + cA);
        FloatVector a10 = FloatVector.fromArray(S, c, cRow[row10] + cA);
        FloatVector a11 = FloatVector.fromArray(S, c, cRow[row11] + cA);
        FloatVector b0 = FloatVector.fromArray(S, c, cRow[row0] + cB);
        FloatVector b1 = FloatVector.fromArray(S, c, cRow[row1] + cB);
        FloatVector b2 = FloatVector.fromArray(S, c, cRow[row2] + cB);
        FloatVector b3 = FloatVector.fromArray(S, c, cRow[row3] + cB);
        FloatVector b4 = FloatVector.fromArray(S, c, cRow[row4] + cB);
        FloatVector b5 = FloatVector.fromArray(S, c, cRow[row5] + cB);
        FloatVector b6 = FloatVector.fromArray(S, c, cRow[row6] + cB);
        FloatVector b7 = FloatVector.fromArray(S, c, cRow[row7] + cB);
        FloatVector b8 = FloatVector.fromArray(S, c, cRow[row8] + cB);
        FloatVector b9 = FloatVector.fromArray(S, c, cRow[row9] + cB);
        FloatVector b10 = FloatVector.fromArray(S, c, cRow[row10] + cB);
        FloatVector b11 = FloatVector.fromArray(S, c, cRow[row11] + cB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int x6 = xRow[row6];
        int x7 = xRow[row7];
        int x8 = xRow[row8];
        int x9 = xRow[row9];
        int x10 = xRow[row10];
        int x11 = xRow[row11];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[chunk], end = taps.chunkStart[chunk + 1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            int p4 = x4 + o;
            int p5 = x5 + o;
            int p6 = x6 + o;
            int p7 = x7 + o;
            int p8 = x8 + o;
            int p9 = x9 + o;
            int p10 = x10 + o;
            int p11 = x11 + o;
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
                v = FloatVector.broadcast(S, x[p4 + k]);
                a4 = v.fma(va, a4);
                b4 = v.fma(vb, b4);
                v = FloatVector.broadcast(S, x[p5 + k]);
                a5 = v.fma(va, a5);
                b5 = v.fma(vb, b5);
                v = FloatVector.broadcast(S, x[p6 + k]);
                a6 = v.fma(va, a6);
                b6 = v.fma(vb, b6);
                v = FloatVector.broadcast(S, x[p7 + k]);
                a7 = v.fma(va, a7);
                b7 = v.fma(vb, b7);
                v = FloatVector.broadcast(S, x[p8 + k]);
                a8 = v.fma(va, a8);
                b8 = v.fma(vb, b8);
                v = FloatVector.broadcast(S, x[p9 + k]);
                a9 = v.fma(va, a9);
                b9 = v.fma(vb, b9);
                v = FloatVector.broadcast(S, x[p10 + k]);
                a10 = v.fma(va, a10);
                b10 = v.fma(vb, b10);
                v = FloatVector.broadcast(S, x[p11 + k]);
                a11 = v.fma(va, a11);
                b11 = v.fma(vb, b11);
            }
        }
        a0.intoArray(c, cRow[row0] + cA);
        a1.intoArray(c, cRow[row1] + cA);
        a2.intoArray(c, cRow[row2] + cA);
        a3.intoArray(c, cRow[row3] + cA);
        a4.intoArray(c, cRow[row4] + cA);
        a5.intoArray(c, cRow[row5] + cA);
        a6.intoArray(c, cRow[row6] + cA);
        a7.intoArray(c, cRow[row7] + cA);
        a8.intoArray(c, cRow[row8] + cA);
        a9.intoArray(c, cRow[row9] + cA);
        a10.intoArray(c, cRow[row10] + cA);
        a11.intoArray(c, cRow[row11] + cA);
        b0.intoArray(c, cRow[row0] + cB);
        b1.intoArray(c, cRow[row1] + cB);
        b2.intoArray(c, cRow[row2] + cB);
        b3.intoArray(c, cRow[row3] + cB);
        b4.intoArray(c, cRow[row4] + cB);
        b5.intoArray(c, cRow[row5] + cB);
        b6.intoArray(c, cRow[row6] + cB);
        b7.intoArray(c, cRow[row7] + cB);
        b8.intoArray(c, cRow[row8] + cB);
        b9.intoArray(c, cRow[row9] + cB);
        b10.intoArray(c, cRow[row10] + cB);
        b11.intoArray(c, cRow[row11] + cB);
    }

    /** As {@link #wide}, for 4 rows and one column block. */
    static void narrow(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                       float[] w, int weights, float[] c, int[] cRow, int cBlock) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cBlock);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cBlock);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cBlock);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cBlock);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[chunk], end = taps.chunkStart[chunk + 1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
            }
        }
        a0.intoArray(c, cRow[row0] + cBlock);
        a1.intoArray(c, cRow[row1] + cBlock);
        a2.intoArray(c, cRow[row2] + cBlock);
        a3.intoArray(c, cRow[row3] + cBlock);
    }

    /**
     * As {@link #wide} when all of K is one chunk: the sums start from the bias vectors at
     * {@code biasA} and {@code biasB} in {@code bias} instead of being loaded from {@code c}, and
     * are clipped, lane by lane, to [{@code low}, {@code high}] at the same offsets as the bias
     * before the one store: an epilogue without residual is one clip, and a padding channel's
     * bounds are 0 and 0, which makes it exactly zero. Two arrays rather than an {@link Epilogue}
     * or vectors: the epilogue's general form, or vectors of a type C2 cannot see, inlined 24
     * times pass C2's node-count cutoff for inlining, and a vector handed to a call that is not
     * inlined is boxed. Row offsets into {@code c} are read only after the k loop, as in
     * {@link #wide}: read before it, they take general registers the loop needs (measured 2x slower).
     */
    static void wideFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                          float[] low, float[] high,
                          float[] c, int[] cRow, int cA, int cB) {
        int row0 = firstRow;
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        int row6 = Math.min(firstRow + 6, lastRow);
        int row7 = Math.min(firstRow + 7, lastRow);
        int row8 = Math.min(firstRow + 8, lastRow);
        int row9 = Math.min(firstRow + 9, lastRow);
        int row10 = Math.min(firstRow + 10, lastRow);
        int row11 = Math.min(firstRow + 11, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a4 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a5 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a6 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a7 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a8 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a9 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a10 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a11 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b4 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b5 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b6 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b7 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b8 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b9 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b10 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b11 = FloatVector.fromArray(S, bias, biasB);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int x6 = xRow[row6];
        int x7 = xRow[row7];
        int x8 = xRow[row8];
        int x9 = xRow[row9];
        int x10 = xRow[row10];
        int x11 = xRow[row11];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            int p4 = x4 + o;
            int p5 = x5 + o;
            int p6 = x6 + o;
            int p7 = x7 + o;
            int p8 = x8 + o;
            int p9 = x9 + o;
            int p10 = x10 + o;
            int p11 = x11 + o;
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
                v = FloatVector.broadcast(S, x[p4 + k]);
                a4 = v.fma(va, a4);
                b4 = v.fma(vb, b4);
                v = FloatVector.broadcast(S, x[p5 + k]);
                a5 = v.fma(va, a5);
                b5 = v.fma(vb, b5);
                v = FloatVector.broadcast(S, x[p6 + k]);
                a6 = v.fma(va, a6);
                b6 = v.fma(vb, b6);
                v = FloatVector.broadcast(S, x[p7 + k]);
                a7 = v.fma(va, a7);
                b7 = v.fma(vb, b7);
                v = FloatVector.broadcast(S, x[p8 + k]);
                a8 = v.fma(va, a8);
                b8 = v.fma(vb, b8);
                v = FloatVector.broadcast(S, x[p9 + k]);
                a9 = v.fma(va, a9);
                b9 = v.fma(vb, b9);
                v = FloatVector.broadcast(S, x[p10 + k]);
                a10 = v.fma(va, a10);
                b10 = v.fma(vb, b10);
                v = FloatVector.broadcast(S, x[p11 + k]);
                a11 = v.fma(va, a11);
                b11 = v.fma(vb, b11);
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
        a4.max(loA).min(hiA).intoArray(c, cRow[row4] + cA);
        a5.max(loA).min(hiA).intoArray(c, cRow[row5] + cA);
        a6.max(loA).min(hiA).intoArray(c, cRow[row6] + cA);
        a7.max(loA).min(hiA).intoArray(c, cRow[row7] + cA);
        a8.max(loA).min(hiA).intoArray(c, cRow[row8] + cA);
        a9.max(loA).min(hiA).intoArray(c, cRow[row9] + cA);
        a10.max(loA).min(hiA).intoArray(c, cRow[row10] + cA);
        a11.max(loA).min(hiA).intoArray(c, cRow[row11] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[row0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[row1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[row2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[row3] + cB);
        b4.max(loB).min(hiB).intoArray(c, cRow[row4] + cB);
        b5.max(loB).min(hiB).intoArray(c, cRow[row5] + cB);
        b6.max(loB).min(hiB).intoArray(c, cRow[row6] + cB);
        b7.max(loB).min(hiB).intoArray(c, cRow[row7] + cB);
        b8.max(loB).min(hiB).intoArray(c, cRow[row8] + cB);
        b9.max(loB).min(hiB).intoArray(c, cRow[row9] + cB);
        b10.max(loB).min(hiB).intoArray(c, cRow[row10] + cB);
        b11.max(loB).min(hiB).intoArray(c, cRow[row11] + cB);
    }

    /**
     * {@link #narrowFinal} for one row alone (a fully connected layer at batch 1): four accumulators
     * over k mod 4 instead of four clamped copies of the row, so each weight vector costs one FMA
     * rather than four, and the chains stay independent. Sums in another order than {@link
     * #narrowFinal}'s, so the last bits may differ.
     */
    static void singleRowFinal(float[] x, int[] xRow, int row, ReductionTaps taps, float[] w, int weights,
                               float[] bias, int biasBlock, float[] low, float[] high, float[] c, int[] cRow,
                               int cBlock) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int x0 = xRow[row];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int n = length[t];
            int wk = weights + firstK[t] * L;
            int p = x0 + offset[t];
            int k = 0;
            for (; k + 4 <= n; k += 4) {
                a0 = FloatVector.broadcast(S, x[p + k]).fma(FloatVector.fromArray(S, w, wk + k * L), a0);
                a1 = FloatVector.broadcast(S, x[p + k + 1]).fma(FloatVector.fromArray(S, w, wk + (k + 1) * L), a1);
                a2 = FloatVector.broadcast(S, x[p + k + 2]).fma(FloatVector.fromArray(S, w, wk + (k + 2) * L), a2);
                a3 = FloatVector.broadcast(S, x[p + k + 3]).fma(FloatVector.fromArray(S, w, wk + (k + 3) * L), a3);
            }
            for (; k < n; k++) {
                a0 = FloatVector.broadcast(S, x[p + k]).fma(FloatVector.fromArray(S, w, wk + k * L), a0);
            }
        }
        FloatVector lo = FloatVector.fromArray(S, low, biasBlock);
        FloatVector hi = FloatVector.fromArray(S, high, biasBlock);
        a0.add(a1).add(a2.add(a3)).max(lo).min(hi).intoArray(c, cRow[row] + cBlock);
    }

    /** As {@link #narrow} when all of K is one chunk; see {@link #wideFinal}. */
    static void narrowFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                            float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                            float[] c, int[] cRow, int cBlock) {
        int row0 = Math.min(firstRow + 0, lastRow);
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int o = offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            int p0 = x0 + o;
            int p1 = x1 + o;
            int p2 = x2 + o;
            int p3 = x3 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
            }
        }
        FloatVector lo = FloatVector.fromArray(S, low, biasBlock);
        FloatVector hi = FloatVector.fromArray(S, high, biasBlock);
        a0.max(lo).min(hi).intoArray(c, cRow[row0] + cBlock);
        a1.max(lo).min(hi).intoArray(c, cRow[row1] + cBlock);
        a2.max(lo).min(hi).intoArray(c, cRow[row2] + cBlock);
        a3.max(lo).min(hi).intoArray(c, cRow[row3] + cBlock);
    }

    /** As {@link #narrow} for 12 rows: see {@link #tallFinal}. */
    static void tall(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps, int chunk,
                     float[] w, int weights, float[] c, int[] cRow, int cBlock) {
        int row0 = firstRow;
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        int row6 = Math.min(firstRow + 6, lastRow);
        int row7 = Math.min(firstRow + 7, lastRow);
        int row8 = Math.min(firstRow + 8, lastRow);
        int row9 = Math.min(firstRow + 9, lastRow);
        int row10 = Math.min(firstRow + 10, lastRow);
        int row11 = Math.min(firstRow + 11, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, c, cRow[row0] + cBlock);
        FloatVector a1 = FloatVector.fromArray(S, c, cRow[row1] + cBlock);
        FloatVector a2 = FloatVector.fromArray(S, c, cRow[row2] + cBlock);
        FloatVector a3 = FloatVector.fromArray(S, c, cRow[row3] + cBlock);
        FloatVector a4 = FloatVector.fromArray(S, c, cRow[row4] + cBlock);
        FloatVector a5 = FloatVector.fromArray(S, c, cRow[row5] + cBlock);
        FloatVector a6 = FloatVector.fromArray(S, c, cRow[row6] + cBlock);
        FloatVector a7 = FloatVector.fromArray(S, c, cRow[row7] + cBlock);
        FloatVector a8 = FloatVector.fromArray(S, c, cRow[row8] + cBlock);
        FloatVector a9 = FloatVector.fromArray(S, c, cRow[row9] + cBlock);
        FloatVector a10 = FloatVector.fromArray(S, c, cRow[row10] + cBlock);
        FloatVector a11 = FloatVector.fromArray(S, c, cRow[row11] + cBlock);
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int x6 = xRow[row6];
        int x7 = xRow[row7];
        int x8 = xRow[row8];
        int x9 = xRow[row9];
        int x10 = xRow[row10];
        int x11 = xRow[row11];
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
            int p6 = x6 + o;
            int p7 = x7 + o;
            int p8 = x8 + o;
            int p9 = x9 + o;
            int p10 = x10 + o;
            int p11 = x11 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p4 + k]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p5 + k]).fma(vw, a5);
                a6 = FloatVector.broadcast(S, x[p6 + k]).fma(vw, a6);
                a7 = FloatVector.broadcast(S, x[p7 + k]).fma(vw, a7);
                a8 = FloatVector.broadcast(S, x[p8 + k]).fma(vw, a8);
                a9 = FloatVector.broadcast(S, x[p9 + k]).fma(vw, a9);
                a10 = FloatVector.broadcast(S, x[p10 + k]).fma(vw, a10);
                a11 = FloatVector.broadcast(S, x[p11 + k]).fma(vw, a11);
            }
        }
        a0.intoArray(c, cRow[row0] + cBlock);
        a1.intoArray(c, cRow[row1] + cBlock);
        a2.intoArray(c, cRow[row2] + cBlock);
        a3.intoArray(c, cRow[row3] + cBlock);
        a4.intoArray(c, cRow[row4] + cBlock);
        a5.intoArray(c, cRow[row5] + cBlock);
        a6.intoArray(c, cRow[row6] + cBlock);
        a7.intoArray(c, cRow[row7] + cBlock);
        a8.intoArray(c, cRow[row8] + cBlock);
        a9.intoArray(c, cRow[row9] + cBlock);
        a10.intoArray(c, cRow[row10] + cBlock);
        a11.intoArray(c, cRow[row11] + cBlock);
    }

    /**
     * As {@link #wideFinal} for one column block: 12 rows of one block, for a layer's odd last
     * block or a layer of one block (16 output channels). Twelve independent accumulators keep
     * both FMA units busy where the 4 of {@link #narrowFinal} wait on each FMA's latency.
     */
    static void tallFinal(float[] x, int[] xRow, int firstRow, int lastRow, ReductionTaps taps,
                          float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                          float[] c, int[] cRow, int cBlock) {
        int row0 = firstRow;
        int row1 = Math.min(firstRow + 1, lastRow);
        int row2 = Math.min(firstRow + 2, lastRow);
        int row3 = Math.min(firstRow + 3, lastRow);
        int row4 = Math.min(firstRow + 4, lastRow);
        int row5 = Math.min(firstRow + 5, lastRow);
        int row6 = Math.min(firstRow + 6, lastRow);
        int row7 = Math.min(firstRow + 7, lastRow);
        int row8 = Math.min(firstRow + 8, lastRow);
        int row9 = Math.min(firstRow + 9, lastRow);
        int row10 = Math.min(firstRow + 10, lastRow);
        int row11 = Math.min(firstRow + 11, lastRow);
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        FloatVector a9 = a0;
        FloatVector a10 = a0;
        FloatVector a11 = a0;
        int x0 = xRow[row0];
        int x1 = xRow[row1];
        int x2 = xRow[row2];
        int x3 = xRow[row3];
        int x4 = xRow[row4];
        int x5 = xRow[row5];
        int x6 = xRow[row6];
        int x7 = xRow[row7];
        int x8 = xRow[row8];
        int x9 = xRow[row9];
        int x10 = xRow[row10];
        int x11 = xRow[row11];
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
            int p6 = x6 + o;
            int p7 = x7 + o;
            int p8 = x8 + o;
            int p9 = x9 + o;
            int p10 = x10 + o;
            int p11 = x11 + o;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p0 + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p1 + k]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p2 + k]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p3 + k]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p4 + k]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p5 + k]).fma(vw, a5);
                a6 = FloatVector.broadcast(S, x[p6 + k]).fma(vw, a6);
                a7 = FloatVector.broadcast(S, x[p7 + k]).fma(vw, a7);
                a8 = FloatVector.broadcast(S, x[p8 + k]).fma(vw, a8);
                a9 = FloatVector.broadcast(S, x[p9 + k]).fma(vw, a9);
                a10 = FloatVector.broadcast(S, x[p10 + k]).fma(vw, a10);
                a11 = FloatVector.broadcast(S, x[p11 + k]).fma(vw, a11);
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
        a6.max(lo).min(hi).intoArray(c, cRow[row6] + cBlock);
        a7.max(lo).min(hi).intoArray(c, cRow[row7] + cBlock);
        a8.max(lo).min(hi).intoArray(c, cRow[row8] + cBlock);
        a9.max(lo).min(hi).intoArray(c, cRow[row9] + cBlock);
        a10.max(lo).min(hi).intoArray(c, cRow[row10] + cBlock);
        a11.max(lo).min(hi).intoArray(c, cRow[row11] + cBlock);
    }

    /**
     * As {@link #wideFinal} for 12 rows whose inputs lie one NCHWc pixel apart, as neighbouring
     * outputs in one image row of a stride-1 convolution do: each row's input is then a constant
     * displacement from the first one's, and the loop needs one index instead of twelve (x86 has
     * 16 general registers, too few for twelve indices, the k counter and the bases). 1x1 convs
     * measured 5-10% faster this way.
     */
    static void wideFinalAdjacent(float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weightsA, int weightsB, float[] bias, int biasA, int biasB,
                                  float[] low, float[] high,
                                  float[] c, int[] cRow, int firstRow, int cA, int cB) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a1 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a2 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a3 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a4 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a5 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a6 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a7 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a8 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a9 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a10 = FloatVector.fromArray(S, bias, biasA);
        FloatVector a11 = FloatVector.fromArray(S, bias, biasA);
        FloatVector b0 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b2 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b3 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b4 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b5 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b6 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b7 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b8 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b9 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b10 = FloatVector.fromArray(S, bias, biasB);
        FloatVector b11 = FloatVector.fromArray(S, bias, biasB);
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t], n = length[t];
            int wa = weightsA + firstK[t] * L, wb = weightsB + firstK[t] * L;
            for (int k = 0; k < n; k++) {
                FloatVector va = FloatVector.fromArray(S, w, wa + k * L);
                FloatVector vb = FloatVector.fromArray(S, w, wb + k * L);
                FloatVector v;
                v = FloatVector.broadcast(S, x[p + k]);
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
                v = FloatVector.broadcast(S, x[p + k + 4 * L]);
                a4 = v.fma(va, a4);
                b4 = v.fma(vb, b4);
                v = FloatVector.broadcast(S, x[p + k + 5 * L]);
                a5 = v.fma(va, a5);
                b5 = v.fma(vb, b5);
                v = FloatVector.broadcast(S, x[p + k + 6 * L]);
                a6 = v.fma(va, a6);
                b6 = v.fma(vb, b6);
                v = FloatVector.broadcast(S, x[p + k + 7 * L]);
                a7 = v.fma(va, a7);
                b7 = v.fma(vb, b7);
                v = FloatVector.broadcast(S, x[p + k + 8 * L]);
                a8 = v.fma(va, a8);
                b8 = v.fma(vb, b8);
                v = FloatVector.broadcast(S, x[p + k + 9 * L]);
                a9 = v.fma(va, a9);
                b9 = v.fma(vb, b9);
                v = FloatVector.broadcast(S, x[p + k + 10 * L]);
                a10 = v.fma(va, a10);
                b10 = v.fma(vb, b10);
                v = FloatVector.broadcast(S, x[p + k + 11 * L]);
                a11 = v.fma(va, a11);
                b11 = v.fma(vb, b11);
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
        a4.max(loA).min(hiA).intoArray(c, cRow[firstRow + 4] + cA);
        a5.max(loA).min(hiA).intoArray(c, cRow[firstRow + 5] + cA);
        a6.max(loA).min(hiA).intoArray(c, cRow[firstRow + 6] + cA);
        a7.max(loA).min(hiA).intoArray(c, cRow[firstRow + 7] + cA);
        a8.max(loA).min(hiA).intoArray(c, cRow[firstRow + 8] + cA);
        a9.max(loA).min(hiA).intoArray(c, cRow[firstRow + 9] + cA);
        a10.max(loA).min(hiA).intoArray(c, cRow[firstRow + 10] + cA);
        a11.max(loA).min(hiA).intoArray(c, cRow[firstRow + 11] + cA);
        b0.max(loB).min(hiB).intoArray(c, cRow[firstRow + 0] + cB);
        b1.max(loB).min(hiB).intoArray(c, cRow[firstRow + 1] + cB);
        b2.max(loB).min(hiB).intoArray(c, cRow[firstRow + 2] + cB);
        b3.max(loB).min(hiB).intoArray(c, cRow[firstRow + 3] + cB);
        b4.max(loB).min(hiB).intoArray(c, cRow[firstRow + 4] + cB);
        b5.max(loB).min(hiB).intoArray(c, cRow[firstRow + 5] + cB);
        b6.max(loB).min(hiB).intoArray(c, cRow[firstRow + 6] + cB);
        b7.max(loB).min(hiB).intoArray(c, cRow[firstRow + 7] + cB);
        b8.max(loB).min(hiB).intoArray(c, cRow[firstRow + 8] + cB);
        b9.max(loB).min(hiB).intoArray(c, cRow[firstRow + 9] + cB);
        b10.max(loB).min(hiB).intoArray(c, cRow[firstRow + 10] + cB);
        b11.max(loB).min(hiB).intoArray(c, cRow[firstRow + 11] + cB);
    }

    /** As {@link #tallFinal} for 12 rows one NCHWc pixel apart: see {@link #wideFinalAdjacent}. */
    static void tallFinalAdjacent(float[] x, int firstInput, ReductionTaps taps,
                                  float[] w, int weights, float[] bias, int biasBlock, float[] low, float[] high,
                                  float[] c, int[] cRow, int firstRow, int cBlock) {
        FloatVector a0 = FloatVector.fromArray(S, bias, biasBlock);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        FloatVector a9 = a0;
        FloatVector a10 = a0;
        FloatVector a11 = a0;
        int[] offset = taps.offset, firstK = taps.firstK, length = taps.length;
        for (int t = taps.chunkStart[0], end = taps.chunkStart[1]; t < end; t++) {
            int p = firstInput + offset[t], n = length[t];
            int wk = weights + firstK[t] * L;
            for (int k = 0; k < n; k++) {
                FloatVector vw = FloatVector.fromArray(S, w, wk + k * L);
                a0 = FloatVector.broadcast(S, x[p + k]).fma(vw, a0);
                a1 = FloatVector.broadcast(S, x[p + k + 1 * L]).fma(vw, a1);
                a2 = FloatVector.broadcast(S, x[p + k + 2 * L]).fma(vw, a2);
                a3 = FloatVector.broadcast(S, x[p + k + 3 * L]).fma(vw, a3);
                a4 = FloatVector.broadcast(S, x[p + k + 4 * L]).fma(vw, a4);
                a5 = FloatVector.broadcast(S, x[p + k + 5 * L]).fma(vw, a5);
                a6 = FloatVector.broadcast(S, x[p + k + 6 * L]).fma(vw, a6);
                a7 = FloatVector.broadcast(S, x[p + k + 7 * L]).fma(vw, a7);
                a8 = FloatVector.broadcast(S, x[p + k + 8 * L]).fma(vw, a8);
                a9 = FloatVector.broadcast(S, x[p + k + 9 * L]).fma(vw, a9);
                a10 = FloatVector.broadcast(S, x[p + k + 10 * L]).fma(vw, a10);
                a11 = FloatVector.broadcast(S, x[p + k + 11 * L]).fma(vw, a11);
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
        a6.max(lo).min(hi).intoArray(c, cRow[firstRow + 6] + cBlock);
        a7.max(lo).min(hi).intoArray(c, cRow[firstRow + 7] + cBlock);
        a8.max(lo).min(hi).intoArray(c, cRow[firstRow + 8] + cBlock);
        a9.max(lo).min(hi).intoArray(c, cRow[firstRow + 9] + cBlock);
        a10.max(lo).min(hi).intoArray(c, cRow[firstRow + 10] + cBlock);
        a11.max(lo).min(hi).intoArray(c, cRow[firstRow + 11] + cBlock);
    }
}
