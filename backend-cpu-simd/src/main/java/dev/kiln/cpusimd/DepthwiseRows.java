package dev.kiln.cpusimd;

/**
 * A depthwise convolution that takes fused form {@link FusedForm#DEPTHWISE_ROWS}: it computes
 * output rows of one (image, channel block) plane from a buffer that holds only the input rows
 * they read, as {@link ExpansionDepthwiseKernel} supplies them.
 */
public interface DepthwiseRows extends SimdKernel {

    /** Channel blocks ({@link BlockedLayout#LANES} channels each) of its input and output. */
    int blocks();

    /** Output rows per plane. */
    int outputRows();

    /** The first input row that output row {@code oy} reads (clamped to the image). */
    int firstInputRow(int oy);

    /** One past the last input row that output row {@code oy} reads (clamped to the image). */
    int endInputRow(int oy);

    /**
     * Output rows [rowStart, rowEnd) of plane {@code plane} (image x blocks + block) into the
     * NCHWc output {@code y}, reading the input plane from {@code x} at {@code inPlane}: where
     * input row 0 of that plane would start, so a buffer holding only the rows these outputs read
     * stands in for the whole plane. {@code residual} is null in the fused form.
     */
    void computeRows(float[] x, int inPlane, float[] y, float[] residual, int plane, int rowStart, int rowEnd);
}
