package dev.kiln.cpusimd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheSizesTest {
    @Test
    void readsTheDataCachesOfSysfs(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "48K");
        index(dir, 1, "1", "Instruction", "32K");
        index(dir, 2, "2", "Unified", "2048K");
        index(dir, 3, "3", "Unified", "32M");
        assertEquals(new CacheSizes(48 * 1024, 2 * 1024 * 1024), CacheSizes.read(dir));
    }

    @Test
    void whatCannotBeReadTakesTheDefault(@TempDir Path dir) throws IOException {
        assertEquals(CacheSizes.DEFAULT, CacheSizes.read(dir.resolve("absent")));
        index(dir, 0, "1", "Data", "lots");
        index(dir, 2, "2", "Unified", "");
        assertEquals(CacheSizes.DEFAULT, CacheSizes.read(dir));
    }

    @Test
    void thisMachinesCachesAreSomething() {
        assertTrue(CacheSizes.MACHINE.l1Data() >= 4096 && CacheSizes.MACHINE.l2() >= 64 * 1024, CacheSizes.MACHINE.toString());
    }

    private static void index(Path dir, int i, String level, String type, String size) throws IOException {
        Path index = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(index.resolve("level"), level + "\n");
        Files.writeString(index.resolve("type"), type + "\n");
        Files.writeString(index.resolve("size"), size + "\n");
    }
}
