package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.conformance.fuzz.RecipeGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln fuzz}: its summary and JSON, its replay of a written case, its usage errors. */
class FuzzCommandTest {

    @Test
    void fuzzesTheOptimizerAndABackendAndReportsCoverageAsJson(@TempDir Path out) {
        CliRun run = CliRun.of("fuzz", "--backends", "reference,cpu-simd", "--cases", "30", "--seed", "3",
                "--in-process", "--out", out.toString(), "--json");
        assertEquals(0, run.exitCode(), run::describe);
        JsonNode j = run.json();
        assertEquals(30, j.get("cases").asInt());
        assertEquals(3, j.get("seed").asInt());
        assertTrue(j.get("nodes").asInt() >= 30, run::describe);
        assertTrue(j.get("ops").has("Conv"), run::describe);
        assertEquals(0, j.get("findings").size());
        assertEquals("optimizer", j.get("targets").get(0).get("target").asText());
        assertEquals("cpu-simd", j.get("targets").get(1).get("target").asText());
        for (JsonNode t : j.get("targets")) {
            assertEquals(30, t.get("checks").asInt());
            assertTrue(t.get("cases_per_minute").asDouble() > 0, run::describe);
            assertTrue(t.get("forms").size() > 5, run::describe);
        }
    }

    @Test
    void theTextSummaryNamesTargetsAndForms(@TempDir Path out) {
        CliRun run = CliRun.of("fuzz", "--backends", "reference", "--cases", "10", "--out", out.toString());
        assertEquals(0, run.exitCode(), run::describe);
        assertTrue(run.out().contains("seed 1: 10 graphs"), run::describe);
        assertTrue(run.out().contains("forms run by optimizer"), run::describe);
        assertTrue(run.out().contains("no findings"), run::describe);
    }

    @Test
    void replaysAWrittenCase(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("recipe.txt"), "optimizer\n" + RecipeGenerator.generate(4, 2, 8).toLine() + "\n");
        CliRun run = CliRun.of("fuzz", "--replay", dir.toString());
        assertEquals(0, run.exitCode(), run::describe);
        assertTrue(run.out().contains("on optimizer: PASSED"), run::describe);
    }

    @Test
    void badArgumentsAreUsageErrors(@TempDir Path dir) {
        assertEquals(2, CliRun.of("fuzz", "--cases", "0").exitCode());
        assertEquals(2, CliRun.of("fuzz", "--max-nodes", "0").exitCode());
        CliRun unknown = CliRun.of("fuzz", "--backends", "no-such");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown backend 'no-such'"), unknown::describe);
        CliRun noCase = CliRun.of("fuzz", "--replay", dir.toString());
        assertEquals(2, noCase.exitCode());
        assertTrue(noCase.err().contains("recipe.txt"), noCase::describe);
    }
}
