package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.cache.KilnCache;
import dev.kiln.runtime.Selector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln tune} fills the tuning cache that {@code explain} under {@code --select cached} then reads; and empties it. */
class TuneCommandTest {
    @TempDir
    Path dir;
    private String savedRoot;

    @BeforeEach
    void isolateTheCache() {
        savedRoot = System.getProperty(KilnCache.ROOT_PROPERTY);
        System.setProperty(KilnCache.ROOT_PROPERTY, dir.toString());
        Selector.forgetRemembered();
    }

    @AfterEach
    void restore() {
        if (savedRoot == null) {
            System.clearProperty(KilnCache.ROOT_PROPERTY);
        } else {
            System.setProperty(KilnCache.ROOT_PROPERTY, savedRoot);
        }
        Selector.forgetRemembered();
    }

    @Test
    void tuneFillsTheCacheExplainReadsItAndClearEmptiesIt() throws Exception {
        CliRun tune = CliRun.of("--select-budget", "300ms", "tune", "--model", "mobilenet_v1", "--json");
        assertEquals(0, tune.exitCode(), tune.describe());
        JsonNode tuned = tune.json().get("tuned").get(0);
        String winner = tuned.get("selection").get("winner").asText();
        assertEquals("miss", tuned.get("selection").get("cache").asText(), tuned.toString());
        assertEquals("remeasure", tuned.get("selection").get("policy").asText());
        try (var entries = Files.list(dir.resolve(Selector.CACHE_KIND))) {
            assertEquals(1, entries.filter(p -> p.toString().endsWith(".entry")).count());
        }

        Selector.forgetRemembered(); // as a new process: from the disk
        CliRun explain = CliRun.of("--select", "cached", "explain", "--model", "mobilenet_v1", "--json");
        assertEquals(0, explain.exitCode(), explain.describe());
        JsonNode selection = explain.json().get("selection");
        assertEquals("hit", selection.get("cache").asText(), selection.toString());
        assertEquals(winner, selection.get("winner").asText());
        assertEquals(winner, explain.json().get("backend").asText());
        assertTrue(selection.get("key").has("threads"), selection.toString());
        assertTrue(selection.get("candidates").size() >= 2, selection.toString());

        Path exported = dir.resolve("exported.txt");
        CliRun export = CliRun.of("tune", "--export", exported.toString());
        assertEquals(0, export.exitCode(), export.describe());
        CliRun clear = CliRun.of("tune", "--clear");
        assertEquals(0, clear.exitCode(), clear.describe());
        assertTrue(clear.out().contains("cleared 1 entries"), clear.describe());
        Selector.forgetRemembered();
        CliRun afterClear = CliRun.of("--select", "cached", "explain", "--model", "mobilenet_v1", "--json");
        assertEquals("miss", afterClear.json().get("selection").get("cache").asText());

        CliRun imported = CliRun.of("tune", "--import", exported.toString());
        assertTrue(imported.out().contains("imported 1 entries"), imported.describe());
        Selector.forgetRemembered();
        CliRun afterImport = CliRun.of("--select", "cached", "explain", "--model", "mobilenet_v1", "--json");
        assertEquals("hit", afterImport.json().get("selection").get("cache").asText());
    }

    @Test
    void aBadPolicyIsAUsageError() {
        CliRun run = CliRun.of("--select", "fastest", "backends");
        assertEquals(2, run.exitCode(), run.describe());
        assertTrue(run.err().contains("rank, measured, cached"), run.describe());
    }
}
