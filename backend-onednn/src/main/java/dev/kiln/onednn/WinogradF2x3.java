package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.host.CpuCaches;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A 3x3 convolution of stride 1 as Winograd F(2x2, 3x3): every 2x2 block of outputs (a tile)
 * from a 4x4 block of inputs, with 16 multiplications per pair of channels where the direct
 * convolution does 36. Kiln's kernels transform the input ({@code kiln_winograd_input}) and the
 * output ({@code kiln_winograd_output}, with the bias, the residual and the activation); between
 * them oneDNN's batched matmul multiplies, at each of the 16 positions, the tiles by the weights
 * transformed here once per compiled model. The transforms hold only 0, 1, -1 and 1/2, so the result stays
 * within a few ulps of the direct convolution's.
 *
 * <p>Taken where the matmul beats oneDNN's direct convolution by enough to pay for the two
 * passes: ResNet-50's 3x3 convolutions at 56x56, 28x28 and 14x14 (the matmul 450-480 us against
 * 910-930 for the direct one, two threads). On 7x7 to 9x9 outputs (16 to 24 tiles, at 7x7 a
 * quarter of them padding) only with at least 64 input channels and transformed weights of at
 * most a quarter of the last-level cache: there the weights, 16/9 the direct convolution's, are
 * what the layer waits on (kernels_vs_onednn.sh, one thread, 32 MB L3, 7x7, AVX2 / AVX-512:
 * 128 to 384 channels 9-16% / 16-24% faster, 448 +1..-8% / -23%, 512 +11% / -11..-19% with its
 * 16.8 MB of weights; 32 channels +9% / +13%). So GoogLeNet's last 3x3 convolutions (160 to
 * 320 and 192 to 384 channels) take it, ResNet's 512-channel ones stay direct. That is the rule
 * ({@code -Dkiln.onednn.winograd=rule}); by default these bounds, {@link WinogradChoice#WIDER}
 * times wider, only pick the shapes {@link WinogradChoice} times both forms of.
 *
 * @param batch       images
 * @param height      the input's height
 * @param width       the input's width
 * @param channels    input channels
 * @param outChannels output channels
 * @param outHeight   the output's height
 * @param outWidth    the output's width
 * @param padTop      rows of zeros above the input
 * @param padLeft     columns of zeros left of it
 */
record WinogradF2x3(long batch, long height, long width, long channels, long outChannels, long outHeight,
                    long outWidth, long padTop, long padLeft) {
    /** The positions of a 4x4 input tile: the batch of the matmul. */
    static final int POSITIONS = 16;
    /** Fewer tiles per image than a 7x7 output has, and the matmul's rows are too few to gain. */
    static final long MIN_TILES_PER_IMAGE = 16;
    /** From this many tiles per image (a 10x10 output) the matmul's rows are enough whatever the weights. */
    static final long MANY_TILES_PER_IMAGE = 25;
    /** Fewer input channels with fewer tiles, and the transforms cost more than the matmul saves. */
    static final long FEW_TILES_MIN_CHANNELS = 64;
    /** Fewer channels and the matmul is too thin to gain (VGG's first convolution reads 3). */
    static final long MIN_CHANNELS = 16;
    /**
     * The most bytes one transformed operand may take: this machine's last-level cache, so that
     * the matmul finds what the input transform wrote, and the output transform what the matmul
     * wrote, still in it. Measured (kernels_vs_onednn.sh vgg, one thread, 32 MB L3, both ISAs):
     * VGG-16's 112x112 layers (25.7 MB) 23-25% faster than the direct convolution, its 224x224
     * ones (51 MB) 9% slower on AVX2; ResNet-50's largest is 3.2 MB. A fixed 16 MB, fitted on one
     * host, left the 112x112 layers direct.
     */
    static final long MAX_TRANSFORMED_BYTES = CpuCaches.machine().lastLevelBytes();

    /** The Winograd form of a convolution, or null when it is not one this computes well. */
    static WinogradF2x3 of(Conv conv, Shape in, Shape weights, Shape out) {
        return of(conv, in, weights, out, MAX_TRANSFORMED_BYTES);
    }

    /** As {@link #of(Conv, Shape, Shape, Shape)}, for transformed operands of at most {@code maxTransformedBytes}. */
    static WinogradF2x3 of(Conv conv, Shape in, Shape weights, Shape out, long maxTransformedBytes) {
        Window w = conv.window().resolve(in);
        boolean threeByThreeStrideOne = conv.groups() == 1 && w.kernelH() == 3 && w.kernelW() == 3
                && w.strideH() == 1 && w.strideW() == 1 && w.dilationH() == 1 && w.dilationW() == 1;
        if (!threeByThreeStrideOne || in.rank() != 4) {
            return null;
        }
        WinogradF2x3 f = new WinogradF2x3(in.dim(0), in.dim(2), in.dim(3), in.dim(1), weights.dim(0), out.dim(2),
                out.dim(3), w.padTop(), w.padLeft());
        long tiles = f.tilesDown() * f.tilesAcross();
        boolean worthIt = tiles >= MIN_TILES_PER_IMAGE && f.channels >= MIN_CHANNELS && f.outChannels >= MIN_CHANNELS
                && f.transformedBytes(Math.max(f.channels, f.outChannels)) <= maxTransformedBytes;
        boolean enoughTiles = tiles >= MANY_TILES_PER_IMAGE
                || f.channels >= FEW_TILES_MIN_CHANNELS && f.weightsBytes() <= maxTransformedBytes / 4;
        return worthIt && enoughTiles ? f : null;
    }

    long tilesDown() {
        return (outHeight + 1) / 2;
    }

    long tilesAcross() {
        return (outWidth + 1) / 2;
    }

    /** Tiles of all images: the matmul's rows. */
    long tiles() {
        return batch * tilesDown() * tilesAcross();
    }

    /** Bytes of a transformed operand of {@code channelCount} channels: [16][tiles][channels] floats. */
    long transformedBytes(long channelCount) {
        return POSITIONS * tiles() * channelCount * Float.BYTES;
    }

    /** Bytes of the transformed weights: [16][channels][outChannels] floats. */
    long weightsBytes() {
        return POSITIONS * channels * outChannels * Float.BYTES;
    }

    long inputBytes() {
        return batch * height * width * channels * Float.BYTES;
    }

    long outputBytes() {
        return batch * outHeight * outWidth * outChannels * Float.BYTES;
    }

    /** The shape as kernels.c's {@code kiln_winograd_shape} reads it, allocated in {@code owner}. */
    MemorySegment toNative(NativeResources owner) {
        long[] fields = {batch, height, width, channels, outHeight, outWidth, padTop, padLeft, tilesDown(),
                tilesAcross()};
        MemorySegment struct = owner.allocate(fields.length * Long.BYTES, Long.BYTES);
        for (int i = 0; i < fields.length; i++) {
            struct.setAtIndex(JAVA_LONG, i, fields[i]);
        }
        return struct;
    }

    /**
     * The weights [outChannels][channels][3][3] as the matmul reads them, U[e][channel][outChannel]
     * = (G g G^T) at position e, with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
     */
    void transformWeights(MemorySegment weights, MemorySegment u) {
        float[] g = weights.asSlice(0, outChannels * channels * 9 * Float.BYTES).toArray(JAVA_FLOAT);
        float[] out = new float[Math.toIntExact(weightsBytes() / Float.BYTES)];
        int positionStride = Math.toIntExact(channels * outChannels);
        double[] gg = new double[12];
        // Output channels innermost: the 16 positions are written in order, each a run along them.
        for (int c = 0; c < channels; c++) {
            for (int o = 0; o < outChannels; o++) {
                int at = (int) ((o * channels + c) * 9);
                for (int col = 0; col < 3; col++) { // G g: four rows of three
                    double g0 = g[at + col];
                    double g1 = g[at + 3 + col];
                    double g2 = g[at + 6 + col];
                    gg[col] = g0;
                    gg[3 + col] = (g0 + g1 + g2) / 2;
                    gg[6 + col] = (g0 - g1 + g2) / 2;
                    gg[9 + col] = g2;
                }
                int to = (int) (c * outChannels + o);
                for (int row = 0; row < 4; row++) { // (G g) G^T: each row's three to four
                    double a = gg[row * 3];
                    double b = gg[row * 3 + 1];
                    double d = gg[row * 3 + 2];
                    int e = row * 4;
                    out[e * positionStride + to] = (float) a;
                    out[(e + 1) * positionStride + to] = (float) ((a + b + d) / 2);
                    out[(e + 2) * positionStride + to] = (float) ((a - b + d) / 2);
                    out[(e + 3) * positionStride + to] = (float) d;
                }
            }
        }
        MemorySegment.copy(out, 0, u, JAVA_FLOAT, 0, out.length);
    }
}
