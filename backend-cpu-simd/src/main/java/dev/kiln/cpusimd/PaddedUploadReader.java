package dev.kiln.cpusimd;

/**
 * A convolution that takes fused form {@link FusedForm#COMPACT_PADDED_INPUT}: it can read its
 * input 0 as a zero-bordered compact copy ({@link PaddedInput}: per image, the padded rows of
 * {@code channels} floats per pixel), which the partition's upload writes straight from the host's
 * NCHW tensor when that input is a partition input read by this node alone.
 */
public interface PaddedUploadReader extends SimdKernel {

    /** The layout this kernel would copy its input 0 into, or null when it reads it as NCHWc. */
    PaddedInput compactPaddedInput();

    /** From now on input 0 arrives as {@link #compactPaddedInput()} lays it out; called at compile time, before any run. */
    void takePaddedInput();
}
