package dev.kiln.conformance.blocked;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;

import java.util.List;
import java.util.stream.IntStream;

import static dev.kiln.conformance.blocked.BlockedLayout.LANES;

/**
 * Convolution that reads and writes NCHW16c: each output channel block is 16 output channels
 * computed together, one lane each, so a weight load is 16 lanes and the accumulators of one
 * output row are contiguous. Weights are repacked once, here, into [block][kH][kW][k][16]: for
 * lane j of block b, the weight that output channel 16b + j applies, at one kernel tap, to the
 * k-th input channel of its group (zero for lanes past the last output channel). The sums run
 * tap by tap, over the input channels within each tap: not the reference backend's order
 * (channel by channel), so the results differ by rounding, as a real optimised kernel's do,
 * and the conformance tolerance is exercised rather than met bit for bit.
 *
 * <p>Without groups every lane reads the same input channel k, a single value broadcast to the
 * 16 lanes. With groups, lanes of one block can belong to different groups (a depthwise block
 * holds 16 groups), so each lane reads its own input channel, found in a per-lane offset table
 * built here too.
 */
final class BlockedConvKernel implements BlockedKernel {
    private final Conv conv;
    private final Window window;
    private final BlockedLayout in;
    private final BlockedLayout out;
    private final int groupChannels;
    private final int kernelH;
    private final int kernelW;
    private final float[] packedWeights;
    private final float[] paddedBias;
    /** For grouped convolution: [block][k][lane] the offset of that lane's input channel within an image; null without groups. */
    private final int[] laneChannelOffsets;

    BlockedConvKernel(BoundNode node) {
        conv = (Conv) node.op();
        in = BlockedLayout.of(node.inputShape(0));
        out = BlockedLayout.of(node.outputShape());
        window = conv.window().resolve(node.inputShape(0));
        Shape ws = node.inputShape(1);
        groupChannels = ws.dim(1);
        kernelH = ws.dim(2);
        kernelW = ws.dim(3);
        float[] weights = node.constant(1).toFloatArray();
        float[] bias = node.isConstant(2) ? node.constant(2).toFloatArray() : null;

        int blocks = out.channelBlocks();
        int taps = kernelH * kernelW;
        packedWeights = new float[blocks * groupChannels * taps * LANES];
        paddedBias = new float[blocks * LANES];
        for (int m = 0; m < out.channels(); m++) {
            int block = m / LANES, lane = m % LANES;
            paddedBias[m] = bias == null ? 0f : bias[m];
            for (int k = 0; k < groupChannels; k++) {
                for (int t = 0; t < taps; t++) {
                    packedWeights[((block * taps + t) * groupChannels + k) * LANES + lane] =
                            weights[(m * groupChannels + k) * taps + t];
                }
            }
        }
        if (conv.groups() == 1) {
            laneChannelOffsets = null;
        } else {
            int groupOut = out.channels() / conv.groups();
            laneChannelOffsets = new int[blocks * groupChannels * LANES];
            for (int m = 0; m < out.channels(); m++) {
                int firstChannel = (m / groupOut) * groupChannels;
                for (int k = 0; k < groupChannels; k++) {
                    laneChannelOffsets[((m / LANES) * groupChannels + k) * LANES + m % LANES] =
                            in.channelOffset(0, firstChannel + k);
                }
            }
            // Padding lanes keep offset 0: a valid index whose value their zero weight ignores.
        }
    }

    @Override
    public void execute(float[][] inputs, float[] y) {
        float[] x = inputs[0];
        float[] residual = conv.hasResidual() ? inputs[3] : null;
        int rows = out.batch() * out.channelBlocks() * out.height();
        IntStream.range(0, rows).parallel().forEach(row -> {
            int oy = row % out.height();
            int block = (row / out.height()) % out.channelBlocks();
            int n = row / (out.height() * out.channelBlocks());
            int yRow = out.offset(n, block, oy, 0);
            for (int ox = 0; ox < out.width(); ox++) {
                System.arraycopy(paddedBias, block * LANES, y, yRow + ox * LANES, LANES);
            }
            if (laneChannelOffsets == null) {
                accumulateDense(x, y, n, block, oy, yRow);
            } else {
                accumulateGrouped(x, y, n, block, oy, yRow);
            }
            applyPostOps(y, residual, block, yRow);
        });
    }

    /** Every lane reads the same input channel: one input value times 16 weights. */
    private void accumulateDense(float[] x, float[] y, int n, int block, int oy, int yRow) {
        for (int ky = 0; ky < kernelH; ky++) {
            int iy = oy * window.strideH() + ky * window.dilationH() - window.padTop();
            if (iy < 0 || iy >= in.height()) {
                continue;
            }
            for (int kx = 0; kx < kernelW; kx++) {
                int offsetX = kx * window.dilationW() - window.padLeft();
                int oxFirst = firstColumn(offsetX), oxEnd = endColumn(offsetX);
                int tapWeights = (block * kernelH * kernelW + ky * kernelW + kx) * groupChannels * LANES;
                for (int c = 0; c < groupChannels; c++) {
                    int w = tapWeights + c * LANES;
                    int xRow = in.channelOffset(n, c) + (iy * in.width() + offsetX) * LANES;
                    for (int ox = oxFirst; ox < oxEnd; ox++) {
                        float value = x[xRow + ox * window.strideW() * LANES];
                        int yo = yRow + ox * LANES;
                        for (int j = 0; j < LANES; j++) {
                            y[yo + j] += packedWeights[w + j] * value;
                        }
                    }
                }
            }
        }
    }

    /** Each lane reads the input channel of its own group. */
    private void accumulateGrouped(float[] x, float[] y, int n, int block, int oy, int yRow) {
        int image = in.offset(n, 0, 0, 0);
        for (int ky = 0; ky < kernelH; ky++) {
            int iy = oy * window.strideH() + ky * window.dilationH() - window.padTop();
            if (iy < 0 || iy >= in.height()) {
                continue;
            }
            for (int kx = 0; kx < kernelW; kx++) {
                int offsetX = kx * window.dilationW() - window.padLeft();
                int oxFirst = firstColumn(offsetX), oxEnd = endColumn(offsetX);
                int tapWeights = (block * kernelH * kernelW + ky * kernelW + kx) * groupChannels * LANES;
                for (int k = 0; k < groupChannels; k++) {
                    int w = tapWeights + k * LANES;
                    int lanes = (block * groupChannels + k) * LANES;
                    for (int ox = oxFirst; ox < oxEnd; ox++) {
                        int pixel = image + (iy * in.width() + ox * window.strideW() + offsetX) * LANES;
                        int yo = yRow + ox * LANES;
                        for (int j = 0; j < LANES; j++) {
                            y[yo + j] += packedWeights[w + j] * x[pixel + laneChannelOffsets[lanes + j]];
                        }
                    }
                }
            }
        }
    }

    /** The first output column whose input column ox * stride + offsetX is inside the image. */
    private int firstColumn(int offsetX) {
        return Math.max(0, Math.ceilDiv(-offsetX, window.strideW()));
    }

    /** One past the last such column. */
    private int endColumn(int offsetX) {
        return Math.min(out.width(), Math.floorDiv(in.width() - 1 - offsetX, window.strideW()) + 1);
    }

    /** The epilogue, in order, on the real lanes; padding lanes are left at zero. */
    private void applyPostOps(float[] y, float[] residual, int block, int yRow) {
        int realLanes = Math.min(LANES, out.channels() - block * LANES);
        List<PostOp> postOps = conv.postOps();
        for (PostOp p : postOps) {
            for (int ox = 0; ox < out.width(); ox++) {
                int yo = yRow + ox * LANES;
                switch (p) {
                    case PostOp.Activate a -> {
                        for (int j = 0; j < realLanes; j++) {
                            y[yo + j] = a.function().apply(y[yo + j]);
                        }
                    }
                    case PostOp.AddResidual r -> {
                        for (int j = 0; j < realLanes; j++) {
                            y[yo + j] += residual[yo + j];
                        }
                    }
                }
            }
        }
    }
}
