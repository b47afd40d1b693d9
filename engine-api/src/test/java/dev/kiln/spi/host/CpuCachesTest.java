package dev.kiln.spi.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuCachesTest {
    @Test
    void readsEachLevelAndTheCpusSharingIt(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "48K", "0,16");
        index(dir, 1, "1", "Instruction", "32K", "0,16");
        index(dir, 2, "2", "Unified", "2048K", "0,16");
        index(dir, 3, "3", "Unified", "60M", "0-31");
        CpuCaches caches = CpuCaches.read(dir);
        assertEquals(new CpuCaches.Level(48 << 10, 2), caches.l1Data());
        assertEquals(new CpuCaches.Level(2 << 20, 2), caches.l2());
        assertEquals(new CpuCaches.Level(60 << 20, 32), caches.l3());
        assertEquals(60 << 20, caches.lastLevelBytes());
    }

    @Test
    void aVirtualMachinesWholeHostCacheOnTwoCpusIsClampedToARealShare(@TempDir Path dir) throws IOException {
        // What a 2-vCPU guest of a Xeon listed: the host's 480 MiB L3, shared by its two CPUs alone.
        index(dir, 0, "1", "Data", "48K", "0");
        index(dir, 2, "2", "Unified", "2048K", "0");
        index(dir, 3, "3", "Unified", "491520K", "0-1");
        CpuCaches caches = CpuCaches.read(dir);
        assertEquals(new CpuCaches.Level(2 * CpuCaches.MAX_L3_BYTES_PER_CPU, 2), caches.l3());
        assertTrue(caches.lastLevelBytes() < 480L << 20, "clamped: " + caches);
        assertEquals(new CpuCaches.Level(2 << 20, 1), caches.l2(), "a plausible level is kept");
    }

    @Test
    void anImplausibleL1OrL2IsClampedToo(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "4M", "0");
        index(dir, 2, "2", "Unified", "64M", "0-1");
        CpuCaches caches = CpuCaches.read(dir);
        assertEquals(CpuCaches.MAX_L1_BYTES_PER_CPU, caches.l1Data().bytes());
        assertEquals(2 * CpuCaches.MAX_L2_BYTES_PER_CPU, caches.l2().bytes());
    }

    @Test
    void whatCannotBeReadTakesTheDefault(@TempDir Path dir) throws IOException {
        assertEquals(CpuCaches.DEFAULT, CpuCaches.read(dir.resolve("absent")));
        index(dir, 0, "1", "Data", "lots", "0");
        index(dir, 2, "2", "Unified", "", "0");
        index(dir, 3, "three", "Unified", "32M", "0");
        assertEquals(CpuCaches.DEFAULT, CpuCaches.read(dir));
    }

    @Test
    void anUnreadableCpuListCountsTheReadingCpuAlone(@TempDir Path dir) throws IOException {
        index(dir, 3, "3", "Unified", "16M", "0-x");
        assertEquals(new CpuCaches.Level(16 << 20, 1), CpuCaches.read(dir).l3());
    }

    @Test
    void sizes() {
        assertEquals(32 * 1024, CpuCaches.parseSize("32K"));
        assertEquals(2 * 1024 * 1024, CpuCaches.parseSize("2M\n"));
        assertEquals(1L << 30, CpuCaches.parseSize("1G"));
        assertEquals(4096, CpuCaches.parseSize("4096"));
        assertEquals(0, CpuCaches.parseSize("-1K"));
        assertEquals(0, CpuCaches.parseSize("K"));
        assertEquals(0, CpuCaches.parseSize(""));
    }

    @Test
    void cpuLists() {
        assertEquals(2, CpuCaches.cpuCount("0-1"));
        assertEquals(6, CpuCaches.cpuCount("0,2,4-7\n"));
        assertEquals(1, CpuCaches.cpuCount("5"));
        assertEquals(0, CpuCaches.cpuCount("3-1"));
        assertEquals(0, CpuCaches.cpuCount(""));
    }

    @Test
    void aLevelNeedsBytesAndCpus() {
        assertThrows(IllegalArgumentException.class, () -> new CpuCaches.Level(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new CpuCaches.Level(1024, 0));
    }

    @Test
    void thisMachinesCachesAreWithinTheClamps() {
        CpuCaches caches = CpuCaches.machine();
        assertTrue(caches.l1Data().bytesPerCpu() <= CpuCaches.MAX_L1_BYTES_PER_CPU
                && caches.l2().bytesPerCpu() <= CpuCaches.MAX_L2_BYTES_PER_CPU
                && caches.l3().bytesPerCpu() <= CpuCaches.MAX_L3_BYTES_PER_CPU, caches.toString());
    }

    private static void index(Path dir, int i, String level, String type, String size, String cpus)
            throws IOException {
        Path index = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(index.resolve("level"), level + "\n");
        Files.writeString(index.resolve("type"), type + "\n");
        Files.writeString(index.resolve("size"), size + "\n");
        Files.writeString(index.resolve("shared_cpu_list"), cpus + "\n");
    }
}
