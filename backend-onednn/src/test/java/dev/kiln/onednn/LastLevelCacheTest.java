package dev.kiln.onednn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LastLevelCacheTest {
    @Test
    void theLargestDataOrUnifiedCacheIsTheLastLevel(@TempDir Path dir) throws IOException {
        index(dir, 0, "Data", "32K");
        index(dir, 1, "Instruction", "64M"); // not data: ignored however large
        index(dir, 2, "Unified", "1024K");
        index(dir, 3, "Unified", "32768K");
        assertEquals(32L << 20, LastLevelCache.read(dir));
    }

    @Test
    void withoutSysfsOrWithNonsenseTheDefault(@TempDir Path dir) throws IOException {
        assertEquals(LastLevelCache.DEFAULT, LastLevelCache.read(dir.resolve("absent")));
        index(dir, 0, "Unified", "lots");
        assertEquals(LastLevelCache.DEFAULT, LastLevelCache.read(dir));
    }

    @Test
    void sizesAsSysfsWritesThem() {
        assertEquals(32 * 1024, LastLevelCache.parseSize("32K\n"));
        assertEquals(2L << 20, LastLevelCache.parseSize("2M"));
        assertEquals(4096, LastLevelCache.parseSize("4096"));
        assertEquals(0, LastLevelCache.parseSize("-1K"));
        assertEquals(0, LastLevelCache.parseSize(""));
    }

    @Test
    void thisMachineHasOne() {
        assertTrue(LastLevelCache.BYTES >= 1L << 20, "last-level cache of " + LastLevelCache.BYTES + " bytes");
    }

    private static void index(Path dir, int i, String type, String size) throws IOException {
        Path index = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(index.resolve("type"), type + "\n");
        Files.writeString(index.resolve("size"), size + "\n");
    }
}
