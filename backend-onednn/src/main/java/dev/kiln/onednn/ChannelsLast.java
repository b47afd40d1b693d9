package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.spi.HostThreads;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** NCHW to NHWC, for images uploaded to a partition whose first primitive reads channels-last. */
final class ChannelsLast {
    /** Pixels per task: their channels-last rows (PIXELS x C floats) stay in cache while written. */
    private static final int PIXELS = 4096;

    private ChannelsLast() {
    }

    /** Writes {@code nchw} (of {@code shape}, rank 4) into {@code nhwc}, sharing the work among {@code threads}. */
    static void transpose(MemorySegment nchw, MemorySegment nhwc, Shape shape, HostThreads threads) {
        int batch = (int) shape.dim(0);
        long channels = shape.dim(1);
        long plane = shape.dim(2) * shape.dim(3);
        int chunks = (int) ((plane + PIXELS - 1) / PIXELS);
        threads.parallelFor(batch * chunks, task -> {
            long image = task / chunks;
            long first = (long) (task % chunks) * PIXELS;
            long end = Math.min(plane, first + PIXELS);
            long from = image * channels * plane;
            for (long c = 0; c < channels; c++) {
                long source = from + c * plane;
                for (long p = first; p < end; p++) {
                    nhwc.setAtIndex(JAVA_FLOAT, from + p * channels + c, nchw.getAtIndex(JAVA_FLOAT, source + p));
                }
            }
        });
    }
}
