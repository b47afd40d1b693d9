package dev.kiln.onednn;

import dev.kiln.cache.CacheKey;
import dev.kiln.cache.TuningCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One core's convolution rate: measured once, kept in the tuning cache under the ISA in force. */
class MeasuredRatesTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();

    @Test
    void aMeasuredRateIsStoredUnderTheIsaInForceAndReadBack(@TempDir Path root) {
        TuningCache cache = TuningCache.open(root, MeasuredRates.CACHE_KIND);
        long measured = OneDnnThread.forCount(2).call(() -> MeasuredRates.cachedOrMeasured(RUNTIME.dnnl,
                RUNTIME.engine, 2, -1, cache));
        assertTrue(measured > 0, measured + " multiply-adds per microsecond");
        CacheKey key = MeasuredRates.key(RUNTIME.dnnl);
        assertEquals(Integer.toHexString(RUNTIME.dnnl.effectiveCpuIsa()), key.fields().get("onednn_isa"));
        assertEquals(Map.of("macs_per_us", Long.toString(measured)), cache.get(key).orElseThrow());
    }

    @Test
    void aStoredRateIsTakenWithoutMeasuring(@TempDir Path root) {
        TuningCache cache = TuningCache.open(root, MeasuredRates.CACHE_KIND);
        cache.put(MeasuredRates.key(RUNTIME.dnnl), Map.of("macs_per_us", "123"));
        assertEquals(123, MeasuredRates.cachedOrMeasured(RUNTIME.dnnl, RUNTIME.engine, 1, -1, cache));
    }

    @Test
    void anUnreadableStoredRateIsMeasuredAgainAndReplaced(@TempDir Path root) {
        TuningCache cache = TuningCache.open(root, MeasuredRates.CACHE_KIND);
        CacheKey key = MeasuredRates.key(RUNTIME.dnnl);
        cache.put(key, Map.of("macs_per_us", "fast"));
        long rate = MeasuredRates.cachedOrMeasured(RUNTIME.dnnl, RUNTIME.engine, 1, -1, cache);
        assertTrue(rate > 0, rate + " multiply-adds per microsecond");
        assertNotEquals("fast", cache.get(key).orElseThrow().get("macs_per_us"));
    }

    @Test
    void theRateIsTheProbesWorkOverItsFastestRun() {
        double nanos = MeasuredRates.fastestRunNanos(RUNTIME.dnnl, RUNTIME.engine, 1);
        assertTrue(nanos > 0 && nanos < 1e9, nanos + " ns");
        assertEquals(64L * 64 * 9 * 20 * 20, MeasuredRates.probeMacs());
    }

    @Test
    void aFixedRateMustBeAPositiveNumber() {
        String before = System.getProperty(MeasuredRates.PROPERTY);
        try {
            System.setProperty(MeasuredRates.PROPERTY, "40000");
            assertEquals(40_000, MeasuredRates.macsPerMicrosecond(RUNTIME.dnnl, RUNTIME.engine, 1, -1));
            System.setProperty(MeasuredRates.PROPERTY, "0");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MeasuredRates.macsPerMicrosecond(RUNTIME.dnnl, RUNTIME.engine, 1, -1));
            assertTrue(e.getMessage().contains(MeasuredRates.PROPERTY), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(MeasuredRates.PROPERTY);
            } else {
                System.setProperty(MeasuredRates.PROPERTY, before);
            }
        }
    }
}
