package dev.kiln.cpusimd;

import java.util.Arrays;

/**
 * The reduction dimension k of a convolution or matrix product seen as a GEMM, as a list of
 * taps: runs of consecutive k whose inputs are also consecutive in memory. Input element k of
 * the output row whose window starts at {@code base} is {@code x[base + offset[t] + (k - firstK[t])]}.
 *
 * <p>A convolution tap is one (input channel block, kh, kw): its lanes are the block's real
 * channels, adjacent in NCHWc; taps that follow each other in memory merge into one. Walking k tap by tap rather than through a flat per-k offset
 * table lets the micro-kernel's inner loop index the input with an induction variable, so the
 * JIT hoists the array bounds checks out of it (a table lookup would cost one check per row and k).
 *
 * <p>Taps are grouped into chunks of about {@link #CHUNK_K} k so that the packed weights of a
 * chunk stay in cache while every row tile of a task passes over them.
 */
final class ReductionTaps {
    /**
     * k per chunk: 192 KiB of weights for a pair of column blocks at every width, in a 1-2 MiB L2
     * (1536 k with 16 lanes, 3072 with 8, AVX2, 6144 with 4). A layer whose K fits in one chunk
     * starts from the bias and stores its tile once; more chunks mean partial sums stored and
     * reloaded. Measured on whole networks at 16 lanes (RatioAgainstOnnxRuntime, ResNet-50 median
     * ms at 512 / 1152 / 1536 / 2304 / 4800: 43.7 / 35.6 / 32.2 / 37.2 / 36.8; VGG-16 and GoogLeNet
     * follow), where chunks of 512 lost to the second pass over the output. At 8 lanes (under
     * {@code -XX:UseAVX=2}, one core, {@code ConvGemmBenchmark}) the same bytes keep ResNet-50's
     * 1x1 2048->512 at 7x7 in one chunk: 1.94-1.99 -> 1.60-1.66 ms; the
     * 3x3 512->512 at 7x7 in two rather than three: 4.02 -> 3.85 ms.
     */
    static final int CHUNK_K = 1536 * 16 / Math.min(16, BlockedLayout.LANES);
    /** Tap length for a plain row-major input, where all of K is contiguous. */
    private static final int ROW_TAP = 256;

    final int[] offset;
    final int[] firstK;
    final int[] length;
    /** Tap indices where each chunk starts, plus the tap count at the end. */
    final int[] chunkStart;
    final int depth;
    /** Whether every tap is one whole channel block, {@link BlockedLayout#LANES} long (a 1x1 convolution's). */
    final boolean wholeBlocks;
    /**
     * Whether every tap is whole channel blocks, a positive multiple of {@link BlockedLayout#LANES}
     * long: also a KxK convolution's, whose kw taps merge into one run, when its input channels fill
     * their blocks; not where a block is partial or the input compacted.
     */
    final boolean blockLengths;

    private ReductionTaps(int[] offset, int[] firstK, int[] length) {
        this.offset = offset;
        this.firstK = firstK;
        this.length = length;
        int k = 0;
        for (int len : length) {
            k += len;
        }
        this.depth = k;
        this.chunkStart = chunks(length);
        this.wholeBlocks = Arrays.stream(length).allMatch(n -> n == BlockedLayout.LANES);
        this.blockLengths = Arrays.stream(length).allMatch(n -> n > 0 && n % BlockedLayout.LANES == 0);
    }

    int taps() {
        return offset.length;
    }

    int chunks() {
        return chunkStart.length - 1;
    }

    /**
     * Taps of a convolution over an NCHWc image {@code height x width} (padded already if the
     * window pads), in the order (channel block, kh, kw, lane) that {@link PackedConvWeights} packs.
     */
    static ReductionTaps forConv(int channels, int height, int width, int pixelStride, int kernelH, int kernelW,
                                 int dilationH, int dilationW) {
        int lanes = BlockedLayout.LANES;
        int blocks = BlockedLayout.blocks(channels);
        int count = blocks * kernelH * kernelW;
        int[] offset = new int[count], firstK = new int[count], length = new int[count];
        int t = 0, k = 0;
        for (int cb = 0; cb < blocks; cb++) {
            int real = Math.min(lanes, channels - cb * lanes);
            for (int kh = 0; kh < kernelH; kh++) {
                for (int kw = 0; kw < kernelW; kw++) {
                    int at = ((cb * height + kh * dilationH) * width + kw * dilationW) * pixelStride;
                    if (t > 0 && offset[t - 1] + length[t - 1] == at) {
                        // Contiguous with the previous tap (full blocks or compact pixels, no
                        // dilation): one longer run, fewer trips through the outer loop.
                        length[t - 1] += real;
                    } else {
                        offset[t] = at;
                        firstK[t] = k;
                        length[t] = real;
                        t++;
                    }
                    k += real;
                }
            }
        }
        return new ReductionTaps(Arrays.copyOf(offset, t), Arrays.copyOf(firstK, t), Arrays.copyOf(length, t));
    }

    /** Taps of a row-major [M, K] matrix: K is contiguous, cut into pieces only to make chunks. */
    static ReductionTaps forRows(int depth) {
        int count = Math.max(1, Math.ceilDiv(depth, ROW_TAP));
        int[] offset = new int[count], firstK = new int[count], length = new int[count];
        for (int t = 0; t < count; t++) {
            offset[t] = t * ROW_TAP;
            firstK[t] = t * ROW_TAP;
            length[t] = Math.min(ROW_TAP, depth - t * ROW_TAP);
        }
        return new ReductionTaps(offset, firstK, length);
    }

    private static int[] chunks(int[] length) {
        int[] starts = new int[length.length + 1];
        int count = 0, k = CHUNK_K;
        for (int t = 0; t < length.length; t++) {
            if (k + length[t] > CHUNK_K) {
                starts[count++] = t;
                k = 0;
            }
            k += length[t];
        }
        starts[count++] = length.length;
        return Arrays.copyOf(starts, count);
    }
}
