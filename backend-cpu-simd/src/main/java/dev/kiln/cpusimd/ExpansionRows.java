package dev.kiln.cpusimd;

/**
 * A convolution that takes fused form {@link FusedForm#EXPANSION_ROWS}: it computes finished
 * output pixels (bias and epilogue applied) for a range of one image's pixels into any buffer,
 * so {@link ExpansionDepthwiseKernel} can keep the rows its depthwise partner reads in cache.
 */
public interface ExpansionRows extends SimdKernel {

    /** Output channel blocks ({@link BlockedLayout#LANES} channels each). */
    int outputBlocks();

    /**
     * Finished output pixels [first, end) (counted over the batch, image after image, row after
     * row; one image's pixels at a time) of channel block {@code block} and, when {@code pair},
     * of block {@code block + 1}, read from the NCHWc input {@code x}: stored contiguously, pixel
     * after pixel of {@link BlockedLayout#LANES} floats, in {@code out} from {@code toA} (block
     * {@code block}) and {@code toB} (block {@code block + 1}). Padding lanes are zero.
     */
    void finishRows(float[] x, int first, int end, int block, boolean pair, float[] out, int toA, int toB);
}
