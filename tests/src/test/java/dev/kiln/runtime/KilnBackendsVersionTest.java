package dev.kiln.runtime;

import dev.kiln.KilnVersion;
import dev.kiln.spi.Backend;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Kiln's own backends name Kiln's version in the tuning cache's key, whatever jar they were
 * loaded from: here, module classes folders with no manifest (a manifest's version differed
 * between the command line's jar and the benchmarks jar, so one's tuning missed in the other).
 * Reading a version probes nothing, so every backend counts, available here or not.
 */
class KilnBackendsVersionTest {

    @Test
    void kilnsBackendsSayKilnsVersion() {
        Set<String> seen = new TreeSet<>();
        for (Backend b : ServiceLoader.load(Backend.class)) {
            if (Set.of("reference", "cpu-simd", "onednn", "opencl").contains(b.id())) {
                assertEquals(KilnVersion.current(), b.version(), b.id());
                seen.add(b.id());
            }
        }
        assertEquals(new TreeSet<>(Set.of("reference", "cpu-simd", "onednn", "opencl")), seen);
        assertEquals(System.getProperty("kiln.tests.projectVersion"), KilnVersion.current());
    }
}
