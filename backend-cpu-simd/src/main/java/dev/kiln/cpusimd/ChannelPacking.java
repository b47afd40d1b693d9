package dev.kiln.cpusimd;

import dev.kiln.Tensor;

/**
 * Per-channel constants (bias, batch-norm scale, depthwise weights) laid out as the blocked
 * activations they meet, one vector per channel block, so that a kernel combines them with an
 * activation block in one vector operation. Channels past the real count are zero, which keeps
 * the padding lanes of a product or a sum zero.
 */
final class ChannelPacking {
    private ChannelPacking() {
    }

    /** {@code perChannel[c]} at {@code [c / L][c % L]}, zero past {@code channels}; a null input gives zeros. */
    static float[] blocked(float[] perChannel, int channels) {
        float[] packed = new float[BlockedLayout.blocks(channels) * BlockedLayout.LANES];
        if (perChannel != null) {
            System.arraycopy(perChannel, 0, packed, 0, channels);
        }
        return packed;
    }

    /** A constant's values, or null for an absent one. */
    static float[] values(Tensor constant) {
        return constant == null ? null : constant.toFloatArray();
    }
}
