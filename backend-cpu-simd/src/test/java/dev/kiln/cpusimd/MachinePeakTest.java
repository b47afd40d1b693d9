package dev.kiln.cpusimd;

import dev.kiln.cache.TuningCache;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The machine peak's probe, structurally: what it measured is a positive, finite rate of the
 * species this JVM prefers (each of the module's runs: native width, {@code -XX:UseAVX=2}, 128-bit),
 * no faster than any core can be, kept per process and in the tuning cache. How fast it is, and how
 * close to a long steady measurement, is {@code MachinePeakBenchmark}'s question (kiln-tests): a
 * loaded host makes any figure low, so no test here asks for a minimum.
 */
class MachinePeakTest {
    /**
     * No core retires more than four vector FMAs per cycle (two or four FMA pipes on today's x86 and
     * ARM cores) or runs above 6 GHz: a probe past this bound timed a loop the compiler dropped.
     */
    private static double impossibleGflopPerS(int threads) {
        return threads * FloatVector.SPECIES_PREFERRED.length() * 2.0 * 4 * 6.0;
    }

    @TempDir
    Path dir;

    @Test
    void aMeasuredPeakIsAPositiveFiniteRateOfThePreferredSpecies() {
        for (int threads : new int[]{1, 2}) {
            MachinePeak peak = MachinePeak.measure(threads);
            assertEquals(threads, peak.threads());
            assertEquals(FloatVector.SPECIES_PREFERRED.vectorBitSize(), peak.vectorBits(),
                    "the species as the JVM settled it (-XX:UseAVX, -XX:MaxVectorSize)");
            assertEquals(RegisterTiles.MACHINE.vectorRegisters() >= 32 ? 24 : 12, peak.accumulators(),
                    "as many chains as the register file holds beside the two multiplicands");
            assertEquals(MachinePeak.Source.MEASURED, peak.source());
            assertTrue(peak.gflopPerS() > 0 && Double.isFinite(peak.gflopPerS()), peak.describe());
            assertTrue(peak.gflopPerS() < impossibleGflopPerS(threads), peak.describe() + " is more than "
                    + impossibleGflopPerS(threads) + " GFLOP/s, beyond any core: the chains were not run");
            System.out.println("MachinePeakTest: " + peak.describe());
        }
    }

    @Test
    void aPeakIsMeasuredOncePerProcessAndThreadCount() {
        TuningCache none = TuningCache.open(null, MachinePeak.CACHE_KIND);
        MachinePeak first = MachinePeak.of(1, none);
        assertSame(first, MachinePeak.of(1, none));
        assertNotEquals(first.threads(), MachinePeak.of(2, none).threads());
    }

    @Test
    void theTuningCacheKeepsTheBestPeakSeen() {
        TuningCache cache = TuningCache.open(dir, MachinePeak.CACHE_KIND);
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        MachinePeak low = new MachinePeak(1, bits, 12, 10, MachinePeak.Source.MEASURED);
        assertSame(low, MachinePeak.bestOf(low, cache), "nothing stored yet");
        assertEquals(1, cache.entries().size(), "stored under " + cache.folder());
        MachinePeak high = new MachinePeak(1, bits, 12, 20, MachinePeak.Source.MEASURED);
        assertSame(high, MachinePeak.bestOf(high, cache), "higher than the stored one, which it replaces");
        MachinePeak best = MachinePeak.bestOf(low, cache);
        assertEquals(MachinePeak.Source.TUNING_CACHE, best.source(), "a lower measurement does not lower it");
        assertEquals(20, best.gflopPerS());
        assertEquals(bits, best.vectorBits());
        // Another thread count is another key.
        MachinePeak two = new MachinePeak(2, bits, 12, 15, MachinePeak.Source.MEASURED);
        assertSame(two, MachinePeak.bestOf(two, cache));
    }

    @Test
    void aStoredPeakOfAnotherWidthOrUnreadableIsIgnored() {
        TuningCache cache = TuningCache.open(dir, MachinePeak.CACHE_KIND);
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        MachinePeak measured = new MachinePeak(1, bits, 12, 10, MachinePeak.Source.MEASURED);
        cache.put(MachinePeak.key(1), Map.of("gflop_per_s", "1000.0", "vector_bits",
                Integer.toString(bits == 512 ? 256 : 512), "accumulators", "12"));
        assertSame(measured, MachinePeak.bestOf(measured, cache));
        cache.put(MachinePeak.key(1), Map.of("gflop_per_s", "fast", "vector_bits", Integer.toString(bits),
                "accumulators", "12"));
        assertSame(measured, MachinePeak.bestOf(measured, cache));
    }

    @Test
    void theKeyNamesTheThreadsTheCpuAndTheJvmsLimits() {
        var fields = MachinePeak.key(2).fields();
        assertEquals("2", fields.get("threads"));
        assertTrue(fields.keySet().containsAll(List.of("probe", "cpu", "isa", "jdk")), fields.toString());
        assertTrue(fields.get("isa").contains("UseAVX=") && fields.get("isa").contains("MaxVectorSize="),
                fields.toString());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MachinePeak.measure(0));
        assertThrows(IllegalArgumentException.class, () -> MachinePeak.of(-1));
        assertThrows(IllegalArgumentException.class,
                () -> new MachinePeak(1, 256, 12, Double.NaN, MachinePeak.Source.MEASURED));
        assertThrows(IllegalArgumentException.class,
                () -> new MachinePeak(1, 256, 12, 0, MachinePeak.Source.MEASURED));
    }

    @Test
    void aShareOfThePeakIsAPercentage() {
        MachinePeak peak = new MachinePeak(2, 512, 24, 200, MachinePeak.Source.TUNING_CACHE);
        assertEquals(25.0, peak.percentOf(50), 1e-12);
        assertTrue(peak.describe().startsWith("200.0 GFLOP/s FP32 on 2 threads (512-bit vectors, 24 FMA chains"),
                peak.describe());
    }
}
