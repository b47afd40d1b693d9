package dev.kiln.conformance.blocked;

import dev.kiln.Shape;
import dev.kiln.Tensor;

/**
 * The NCHW16c layout of a 4-D activation: [N][ceil(C/16)][H][W][16]. Channel c lives in block
 * c / 16, lane c % 16; the lanes past C in the last block are zero and stay zero (every kernel
 * of the backend keeps them so). Converting from and to the host's NCHW happens only here, at
 * partition boundaries.
 */
record BlockedLayout(int batch, int channels, int height, int width) {
    static final int LANES = 16;

    static BlockedLayout of(Shape shape) {
        if (shape.rank() != 4) {
            throw new IllegalArgumentException("the blocked layout is for 4-D NCHW tensors, got " + shape);
        }
        return new BlockedLayout(shape.dim(0), shape.dim(1), shape.dim(2), shape.dim(3));
    }

    int channelBlocks() {
        return Math.ceilDiv(channels, LANES);
    }

    /** Floats in a buffer of this layout, padding lanes included. */
    int size() {
        return Math.multiplyExact(Math.multiplyExact(batch * channelBlocks(), height * width), LANES);
    }

    /** Index of lane 0 of pixel (y, x) of channel block {@code block} of image {@code n}. */
    int offset(int n, int block, int y, int x) {
        return (((n * channelBlocks() + block) * height + y) * width + x) * LANES;
    }

    /** Index of channel {@code c} at pixel (0, 0) of image {@code n}; a pixel (y, x) is {@code (y * width + x) * LANES} further. */
    int channelOffset(int n, int c) {
        return offset(n, c / LANES, 0, 0) + c % LANES;
    }

    /** Converts a host NCHW tensor into a blocked buffer; the padding lanes are left as they are (zero). */
    void fromNchw(Tensor host, float[] blocked) {
        int plane = height * width;
        float[] row = new float[plane];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                host.copyTo((long) (n * channels + c) * plane, row, 0, plane);
                int base = channelOffset(n, c);
                for (int i = 0; i < plane; i++) {
                    blocked[base + i * LANES] = row[i];
                }
            }
        }
    }

    /** Converts a blocked buffer into a host NCHW tensor, dropping the padding lanes. */
    void toNchw(float[] blocked, Tensor host) {
        int plane = height * width;
        float[] row = new float[plane];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int base = channelOffset(n, c);
                for (int i = 0; i < plane; i++) {
                    row[i] = blocked[base + i * LANES];
                }
                host.copyFrom(row, 0, (long) (n * channels + c) * plane, plane);
            }
        }
    }
}
