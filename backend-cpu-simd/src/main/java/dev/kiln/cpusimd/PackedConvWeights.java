package dev.kiln.cpusimd;

/**
 * Weights and bias of a convolution or fully connected layer, packed once at compile time as
 * the B matrix of a GEMM: [column block][k][lane], so that the micro-kernel reads one vector of
 * {@link BlockedLayout#LANES} output channels per k, sequentially. Output channels past the real
 * ones get zero weights and zero bias, so their sums are exactly zero before the epilogue.
 */
final class PackedConvWeights {
    private static final int L = BlockedLayout.LANES;

    /** [blocks][depth][L]. */
    final float[] weights;
    /** [blocks * L]. */
    final float[] bias;
    final int blocks;
    final int depth;

    private PackedConvWeights(int columns, int depth) {
        this.blocks = BlockedLayout.blocks(columns);
        this.depth = depth;
        this.weights = new float[Math.toIntExact((long) blocks * depth * L)];
        this.bias = new float[blocks * L];
    }

    /** Offset of column block {@code block} in {@link #weights}. */
    int blockOffset(int block) {
        return block * depth * L;
    }

    /** Heap bytes held, for the compiled model's report. */
    long bytes() {
        return (long) (weights.length + bias.length) * Float.BYTES;
    }

    /**
     * Packs W [M, C/groups, kH, kW] with k in {@link ReductionTaps#forConv}'s order (channel
     * block, kh, kw, lane) over the real input channels. A grouped convolution becomes a dense
     * one whose weights are zero outside each output channel's group.
     */
    static PackedConvWeights forConv(float[] w, float[] bias, int outChannels, int inChannels, int groups,
                                     int kernelH, int kernelW) {
        PackedConvWeights p = new PackedConvWeights(outChannels, inChannels * kernelH * kernelW);
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        for (int m = 0; m < outChannels; m++) {
            int group = m / groupOut;
            int column = p.blockOffset(m / L) + m % L;
            int k = 0;
            for (int cb = 0; cb < BlockedLayout.blocks(inChannels); cb++) {
                int real = Math.min(L, inChannels - cb * L);
                for (int kh = 0; kh < kernelH; kh++) {
                    for (int kw = 0; kw < kernelW; kw++) {
                        for (int lane = 0; lane < real; lane++, k++) {
                            int c = cb * L + lane;
                            if (c / groupIn == group) {
                                int src = ((m * groupIn + c % groupIn) * kernelH + kh) * kernelW + kw;
                                p.weights[column + k * L] = w[src];
                            }
                        }
                    }
                }
            }
            p.bias[m] = bias == null ? 0f : bias[m];
        }
        return p;
    }

    /**
     * Packs alpha * B' for Y = alpha * A * B' + beta * C with B' [K, N] (B is [N, K] when
     * transposed, as in a fully connected layer), and beta * C, one value per column, as the bias.
     */
    static PackedConvWeights forGemm(float[] b, boolean transB, float alpha, int depth, int columns,
                                     float[] c, float beta) {
        PackedConvWeights p = new PackedConvWeights(columns, depth);
        for (int n = 0; n < columns; n++) {
            int column = p.blockOffset(n / L) + n % L;
            for (int k = 0; k < depth; k++) {
                float v = transB ? b[n * depth + k] : b[k * columns + n];
                p.weights[column + k * L] = alpha * v;
            }
            p.bias[n] = c == null ? 0f : beta * c[c.length == 1 ? 0 : n];
        }
        return p;
    }
}
