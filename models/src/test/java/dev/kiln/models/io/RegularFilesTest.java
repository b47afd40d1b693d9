package dev.kiln.models.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only regular files are opened: a FIFO would block the reader, a device would never end. */
class RegularFilesTest {
    @TempDir
    Path dir;

    @Test
    void eachKindOfNonFileIsNamed() throws Exception {
        Path fifo = dir.resolve("input.npy");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo failed");
        assertNamed(fifo, "is a FIFO (named pipe), not a regular file");
        assertNamed(Files.createDirectory(dir.resolve("folder.npy")), "is a directory, not a regular file");
        assertNamed(Path.of("/dev/zero"), "is a character device, not a regular file");
        assertThrows(NoSuchFileException.class, () -> RegularFiles.requireRegular(dir.resolve("absent.npy"), "x"));
        Path file = Files.writeString(dir.resolve("file.npy"), "12345");
        assertEquals(5, RegularFiles.requireRegular(file, ".npy file").size());
    }

    /**
     * Through Npy.read, which would otherwise block forever on the FIFO: the timeout is a hang
     * guard, generous so that a busy machine never trips it.
     */
    private static void assertNamed(Path path, String kind) {
        IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(RegularFiles.NotARegularFileException.class, () -> Npy.read(path)));
        assertTrue(e.getMessage().equals(".npy file " + path + " " + kind), e.getMessage());
    }
}
