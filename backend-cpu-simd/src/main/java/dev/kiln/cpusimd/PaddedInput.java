package dev.kiln.cpusimd;

import dev.kiln.graph.ops.ShapeArithmetic;
import dev.kiln.spi.HostThreads;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A zero-bordered copy of an NCHWc image, so that a convolution's inner loop reads every window
 * position without testing whether it falls outside the image. Scratch is shared by all kernels
 * of a workspace, so the borders are written again on every copy.
 *
 * <p>An image with fewer channels than a block (a first layer's 3 colours) is also compacted to
 * {@code channels} floats per pixel: a row of the window is then one contiguous run of
 * kW x channels inputs, a single long tap for the micro-kernel instead of kW taps of 3.
 */
public final class PaddedInput {
    /** The tasks of the last copy and upload, by buffers (see {@link LastTask}). */
    private final LastTask copyTasks = new LastTask();
    private final LastTask uploadTasks = new LastTask();
    private static final int L = BlockedLayout.LANES;

    private final int planes, channels, height, width, top, left;
    final int paddedHeight, paddedWidth;
    /** Floats per pixel in the copy: {@link BlockedLayout#LANES}, or the channel count when compact. */
    final int pixelStride;

    /** The copy of a batch of NCHWc images of {@code channels} channels padded by these many rows and columns. */
    public PaddedInput(int batch, int channels, int height, int width, int top, int left, int bottom, int right) {
        this.planes = batch * BlockedLayout.blocks(channels);
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.top = top;
        this.left = left;
        this.paddedHeight = ShapeArithmetic.paddedExtent("height", height, top, bottom);
        this.paddedWidth = ShapeArithmetic.paddedExtent("width", width, left, right);
        this.pixelStride = compacts(channels) ? channels : L;
    }

    /** Whether the copy keeps only the real channels of each pixel. */
    static boolean compacts(int channels) {
        return channels < L;
    }

    long floats() {
        return ShapeArithmetic.intProduct("the padded copy of the input", planes, paddedHeight, paddedWidth,
                pixelStride);
    }

    /**
     * Writes the zero-bordered compact copy straight from a host NCHW tensor, one row per task:
     * for a network's input image this replaces the conversion to NCHWc and the copy from it.
     */
    void fromNchw(MemorySegment x, float[] padded, HostThreads threads) {
        IntConsumer work = uploadTasks.find(x, padded, null, null, 0);
        if (work == null) {
            work = uploadTasks.keep(x, padded, null, null, 0, task -> fromNchwRow(x, padded, task));
        }
        threads.parallelFor(planes * paddedHeight, work);
    }

    private void fromNchwRow(MemorySegment x, float[] padded, int task) {
        int rowOut = paddedWidth * pixelStride;
        int image = task / paddedHeight, row = task % paddedHeight, h = row - top;
        int d = task * rowOut;
        if (h < 0 || h >= height) {
            Arrays.fill(padded, d, d + rowOut, 0f);
            return;
        }
        int inside = d + left * pixelStride;
        Arrays.fill(padded, d, inside, 0f);
        for (int c = 0; c < channels; c++) {
            long from = ((long) (image * channels + c) * height + h) * width;
            for (int w = 0; w < width; w++) {
                padded[inside + w * channels + c] = x.getAtIndex(ValueLayout.JAVA_FLOAT, from + w);
            }
        }
        Arrays.fill(padded, inside + width * pixelStride, d + rowOut, 0f);
    }

    /** Copies {@code x} into {@code padded}, one row of one channel block per task. */
    void copy(float[] x, float[] padded, HostThreads threads) {
        IntConsumer work = copyTasks.find(x, padded, null, null, 0);
        if (work == null) {
            work = copyTasks.keep(x, padded, null, null, 0,
                    task -> copyRow(x, padded, task / paddedHeight, task % paddedHeight));
        }
        threads.parallelFor(planes * paddedHeight, work);
    }

    private void copyRow(float[] x, float[] padded, int plane, int row) {
        int rowOut = paddedWidth * pixelStride;
        int d = (plane * paddedHeight + row) * rowOut;
        int h = row - top;
        if (h < 0 || h >= height) {
            Arrays.fill(padded, d, d + rowOut, 0f);
            return;
        }
        int s = (plane * height + h) * width * L;
        int inside = d + left * pixelStride, after = inside + width * pixelStride;
        Arrays.fill(padded, d, inside, 0f);
        if (pixelStride == L) {
            System.arraycopy(x, s, padded, inside, width * L);
        } else {
            // A few floats per pixel: a plain loop, since a System.arraycopy call per pixel costs more than its copy.
            for (int w = 0, from = s, to = inside; w < width; w++, from += L, to += channels) {
                for (int c = 0; c < channels; c++) {
                    padded[to + c] = x[from + c];
                }
            }
        }
        Arrays.fill(padded, after, d + rowOut, 0f);
    }
}
