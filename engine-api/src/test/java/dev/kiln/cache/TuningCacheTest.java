package dev.kiln.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tuning cache's file handling: concurrent writers, the size bound, export and import, read-only roots. */
class TuningCacheTest {
    @TempDir
    Path dir;

    private static CacheKey key(int i) {
        return CacheKey.of().with("model", "m" + i).with("threads", "2");
    }

    @Test
    void writersOfTheSameKeyAtOnceLeaveOneWholeEntry() throws Exception {
        // Stands for two processes tuning the same model: each store is a temp file renamed into place.
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> stores = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int writer = w;
                Callable<Boolean> store = () -> {
                    TuningCache cache = TuningCache.open(dir, "selection");
                    boolean all = true;
                    for (int i = 0; i < 50; i++) {
                        all &= cache.put(key(0), Map.of("winner", "w" + writer, "round", Integer.toString(i)));
                    }
                    return all;
                };
                stores.add(pool.submit(store));
            }
            for (Future<Boolean> f : stores) {
                assertTrue(f.get(60, TimeUnit.SECONDS)); // a hang guard
            }
        } finally {
            pool.shutdownNow();
        }
        TuningCache cache = TuningCache.open(dir, "selection");
        assertTrue(cache.get(key(0)).orElseThrow().get("winner").startsWith("w"));
        assertEquals(1, cache.entries().size());
        try (var files = Files.list(dir.resolve("selection"))) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    /** A second JVM's part in {@link #twoProcessesStoringTheSameKeyLeaveOneWholeEntry}: stores one key many times. */
    public static final class Writer {
        public static void main(String[] args) {
            TuningCache cache = TuningCache.open(Path.of(args[0]), "selection");
            for (int i = 0; i < 200; i++) {
                if (!cache.put(key(0), Map.of("winner", args[1], "round", Integer.toString(i)))) {
                    System.exit(3);
                }
            }
        }
    }

    @Test
    void twoProcessesStoringTheSameKeyLeaveOneWholeEntry() throws Exception {
        List<Process> writers = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (String name : List.of("first", "second")) {
            Path log = dir.resolve(name + ".log"); // to a file, not a pipe, so that a hung child cannot block the test
            logs.add(log);
            writers.add(new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                    System.getProperty("java.class.path"), Writer.class.getName(), dir.resolve("cache").toString(), name)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start());
        }
        for (int i = 0; i < writers.size(); i++) {
            Process p = writers.get(i);
            boolean ended = p.waitFor(60, TimeUnit.SECONDS); // a hang guard
            if (!ended) {
                p.destroyForcibly();
            }
            assertTrue(ended, "a writer hung");
            assertEquals(0, p.exitValue(), Files.readString(logs.get(i)));
        }
        TuningCache cache = TuningCache.open(dir.resolve("cache"), "selection");
        String winner = cache.get(key(0)).orElseThrow().get("winner");
        assertTrue(winner.equals("first") || winner.equals("second"), winner);
        try (var files = Files.list(dir.resolve("cache").resolve("selection"))) {
            assertEquals(1, files.count(), "one entry and no temporary file");
        }
    }

    @Test
    void theOldestEntriesGoPastTheBound() throws Exception {
        TuningCache cache = TuningCache.open(dir, List.of(), "selection", 3);
        for (int i = 0; i < 5; i++) {
            cache.put(key(i), Map.of("winner", "b" + i));
            Path file = dir.resolve("selection").resolve(key(i).digest() + ".entry");
            Files.setLastModifiedTime(file, FileTime.fromMillis(1_000_000L * (i + 1))); // distinct ages
        }
        assertEquals(3, cache.entries().size());
        assertTrue(cache.get(key(4)).isPresent());
        assertTrue(cache.get(key(0)).isEmpty(), "the oldest went first");
    }

    @Test
    void exportImportAndAReadOnlyRoot() throws Exception {
        TuningCache here = TuningCache.open(dir.resolve("here"), "selection");
        here.put(key(1), Map.of("winner", "onednn"));
        here.put(key(2), Map.of("winner", "cpu-simd"));
        Path file = dir.resolve("moved.txt");
        assertEquals(2, here.exportTo(file));
        TuningCache there = TuningCache.open(dir.resolve("there"), "selection");
        assertEquals(2, there.importFrom(file));
        assertEquals("onednn", there.get(key(1)).orElseThrow().get("winner"));

        TuningCache shipped = TuningCache.open(dir.resolve("user"), List.of(dir.resolve("here")), "selection");
        assertEquals("cpu-simd", shipped.get(key(2)).orElseThrow().get("winner"), "read after the user's folder");
        shipped.put(key(2), Map.of("winner", "opencl"));
        assertEquals("opencl", shipped.get(key(2)).orElseThrow().get("winner"), "the user's folder first");
        assertEquals("cpu-simd", here.get(key(2)).orElseThrow().get("winner"), "the read-only root is not written");
    }

    @Test
    void anEntryUnderAnotherKeysNameIsForeign() throws Exception {
        TuningCache cache = TuningCache.open(dir, "selection");
        cache.put(key(1), Map.of("winner", "onednn"));
        Path a = dir.resolve("selection").resolve(key(1).digest() + ".entry");
        Files.move(a, dir.resolve("selection").resolve(key(2).digest() + ".entry")); // copied under a wrong name
        assertTrue(cache.get(key(2)).isEmpty());
    }
}
