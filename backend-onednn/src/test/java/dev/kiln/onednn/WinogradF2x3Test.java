package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.host.CpuCaches;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which convolutions take Winograd F(2x2, 3x3), by shape and by the cache its operands must fit. */
class WinogradF2x3Test {
    private static final Conv SAME = new Conv(Window.square(3, 1, 1), 1, List.of());

    private static WinogradF2x3 of(long channels, long size, long cacheBytes) {
        Shape image = Shape.of(1, (int) channels, (int) size, (int) size);
        return WinogradF2x3.of(SAME, image, Shape.of((int) channels, (int) channels, 3, 3), image, cacheBytes);
    }

    @Test
    void transformedOperandsMustFitTheLastLevelCache() {
        // VGG-16's 112x112 layers: 16 positions x 3136 tiles x 128 channels x 4 bytes = 25.7 MB
        assertEquals(16L * 56 * 56 * 128 * 4, of(128, 112, 32L << 20).transformedBytes(128));
        assertNotNull(of(128, 112, 32L << 20), "fits a 32 MB L3");
        assertNull(of(128, 112, 16L << 20), "not a 16 MB one");
        // its 224x224 layers (51 MB) fit neither; ResNet-50's largest (3.2 MB) both
        assertNull(of(64, 224, 32L << 20));
        assertNotNull(of(64, 56, 16L << 20));
    }

    @Test
    void tooFewChannelsStayDirect() {
        assertNull(of(8, 56, 32L << 20));
        assertNotNull(of(16, 10, 32L << 20), "25 tiles");
        assertNull(of(32, 5, 32L << 20), "9 tiles");
    }

    /** At 7x7 to 9x9 (16 to 24 tiles) on 64 or more channels whose transformed weights fit a quarter of the cache. */
    @Test
    void fewTilesTakeItWhereTheWeightsAreSmall() {
        assertNotNull(of(256, 7, 32L << 20), "4.2 MB of weights");
        assertNotNull(of(64, 9, 32L << 20));
        assertNull(of(320, 7, 16L << 20), "6.6 MB: over a quarter of 16 MB");
        assertNull(of(512, 7, 32L << 20), "16.8 MB of weights");
        assertNull(of(48, 7, 32L << 20), "few channels");
        Shape in = Shape.of(1, 160, 7, 7);
        assertNotNull(WinogradF2x3.of(SAME, in, Shape.of(320, 160, 3, 3), Shape.of(1, 320, 7, 7), 32L << 20),
                "GoogLeNet's inception 5a");
    }

    @Test
    void theBoundIsThisMachinesLastLevelCache() {
        assertEquals(CpuCaches.machine().lastLevelBytes(), WinogradF2x3.MAX_TRANSFORMED_BYTES);
    }

    @Test
    void oneCoresRateFollowsOneDnnsVectorWidth() {
        assertEquals(50_000, StepThreads.macsPerMicrosecond(Dnnl.CPU_ISA_AVX512_CORE | 0xc0));
        assertEquals(25_000, StepThreads.macsPerMicrosecond(Dnnl.CPU_ISA_AVX2));
        assertEquals(12_500, StepThreads.macsPerMicrosecond(0x3));
    }
}
