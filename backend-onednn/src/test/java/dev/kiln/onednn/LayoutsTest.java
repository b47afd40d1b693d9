package dev.kiln.onednn;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What {@link Layouts} reads from hand-made descriptors: weights [O, C, H, W] as runs per input channel. */
class LayoutsTest {
    private static final Dnnl DNNL = OneDnnRuntime.get().require().dnnl;

    private static long run(long[] dims, long[] strides, long channels) {
        MemorySegment md = DNNL.memoryDescWithStrides(dims, strides);
        try {
            return Layouts.innerRunPerChannel(DNNL, md, channels);
        } finally {
            DNNL.memoryDescDestroy(md);
        }
    }

    @Test
    void weightsWithTheInputChannelInnermostAreRunsOfOne() {
        assertEquals(1, run(new long[]{16, 8, 1, 1}, new long[]{8, 1, 1, 1}, 8), "1x1, plain");
        assertEquals(1, run(new long[]{16, 8, 3, 3}, new long[]{72, 1, 24, 8}, 8), "3x3, channels last");
    }

    @Test
    void otherLayoutsAreRefused() {
        assertEquals(-1, run(new long[]{16, 8, 3, 3}, new long[]{72, 9, 3, 1}, 8),
                "3x3 plain: a channel's values are its 9 taps");
        assertEquals(-1, run(new long[]{16, 8, 1, 1}, new long[]{8, 1, 1, 1}, 4), "another channel count");
        assertEquals(-1, run(new long[]{16, 8, 1, 1}, new long[]{1, 16, 1, 1}, 8),
                "output channels innermost, not as an inner block");
    }
}
