package dev.kiln.opencl;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Work-groups sized from the device's limits, for devices of very different sizes. */
class TileSizesTest {

    @Test
    void aLargeDeviceGetsTheLargestTiles() {
        TileSizes t = TileSizes.forDevice(1024, 1024, 1024, 48 * 1024);
        assertEquals(64, t.tileM());
        assertEquals(64, t.tileN());
        assertEquals(256, t.reduction());
    }

    @Test
    void tilesShrinkToTheWorkGroupLimit() {
        TileSizes t = TileSizes.forDevice(64, 64, 64, 48 * 1024);
        assertTrue((long) t.itemsM() * t.itemsN() <= 64, t.toString());
        assertEquals(32, t.tileM());
        assertEquals(64, t.reduction());
    }

    @Test
    void tilesShrinkToTheLocalMemory() {
        TileSizes t = TileSizes.forDevice(1024, 1024, 1024, 4 * 1024);
        assertTrue(t.localBytes() <= 2 * 1024, t.toString());
    }

    @Test
    void tilesRespectThePerDimensionLimit() {
        TileSizes t = TileSizes.forDevice(1024, 4, 1024, 48 * 1024);
        assertTrue(t.itemsN() <= 4, t.toString());
    }

    @Test
    void aDeviceWithoutRoomForOneItemIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> TileSizes.forDevice(0, 0, 0, 0));
    }

    @Test
    void theDevicesOwnLimitsGiveAWorkingShape() {
        OpenClDeviceInfo d = OpenClRuntime.devices().getFirst();
        TileSizes t = TileSizes.forDevice(d);
        assertTrue((long) t.itemsM() * t.itemsN() <= d.maxWorkGroup() && t.localBytes() <= d.localMemBytes(),
                t + " on " + d);
    }
}
