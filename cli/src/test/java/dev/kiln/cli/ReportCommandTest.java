package dev.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln report --compare}: what it makes of its inputs, and how it refuses bad ones (browser-free). */
class ReportCommandTest {
    @TempDir
    Path dir;

    private static final String RUN = """
            [{"model": "m", "backend": "reference", "batch": 1, "median_ms": 10.0},
             {"model": "m", "backend": "cpu-simd", "batch": 1, "median_ms": 2.0}]""";

    @Test
    void aMedianSlowerThanTheThresholdIsARegressionAndFasterAnImprovement() throws Exception {
        Path before = Files.writeString(dir.resolve("old.json"), RUN);
        Path after = Files.writeString(dir.resolve("new.json"), RUN.replace("10.0", "10.4").replace("2.0", "1.5"));
        CliRun run = CliRun.of("report", "--compare", before.toString(), after.toString(), "--output",
                dir.resolve("r.html").toString(), "--threshold", "3", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(1, run.json().get("regressions").asInt(), run.out());
        assertEquals(1, run.json().get("improvements").asInt(), run.out());
        assertEquals(4.0, run.json().get("rows").get(0).get("change_pct").asDouble(), 1e-9);
        assertEquals(-25.0, run.json().get("rows").get(1).get("change_pct").asDouble(), 1e-9);
        assertEquals(before.toString(), run.json().get("old").asText());
        assertEquals(after.toString(), run.json().get("new").asText());
        assertTrue(Files.readString(dir.resolve("r.html")).contains("class=\"regression\""));
    }

    @Test
    void aFileThatIsNotABenchRunIsRefusedNamingTheFileAndTheResult() throws Exception {
        Path good = Files.writeString(dir.resolve("old.json"), RUN);
        Path object = Files.writeString(dir.resolve("object.json"), "{\"model\": \"m\"}");
        Path noMedian = Files.writeString(dir.resolve("no-median.json"), RUN.replace("\"median_ms\": 2.0", "\"x\": 1"));
        Path twice = Files.writeString(dir.resolve("twice.json"), RUN.replace("cpu-simd", "reference"));
        Path broken = Files.writeString(dir.resolve("broken.json"), "[{");
        Path output = dir.resolve("r.html");
        for (Path bad : new Path[]{object, noMedian, twice, broken, dir.resolve("absent.json")}) {
            CliRun run = CliRun.of("report", "--compare", good.toString(), bad.toString(), "--output",
                    output.toString());
            assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
            assertTrue(run.err().contains(bad.toString()), "the file is named: " + run.err());
        }
        assertTrue(CliRun.of("report", "--compare", good.toString(), noMedian.toString(), "--output",
                output.toString()).err().contains("result 1: no valid 'median_ms'"));
        assertTrue(CliRun.of("report", "--compare", good.toString(), twice.toString(), "--output",
                output.toString()).err().contains("appears twice"));
        assertFalse(Files.exists(output), "nothing is written from a bad input");
    }

    @Test
    void badOptionsAreUsageErrors() throws Exception {
        Path good = Files.writeString(dir.resolve("old.json"), RUN);
        assertEquals(ErrorReporter.USAGE, CliRun.of("report", "--compare", good.toString(), "--output", "x.html")
                .exitCode(), "--compare takes two files");
        assertEquals(ErrorReporter.USAGE, CliRun.of("report", "--compare", good.toString(), good.toString())
                .exitCode(), "--output is required");
        assertEquals(ErrorReporter.USAGE, CliRun.of("report", "--compare", good.toString(), good.toString(),
                "--output", dir.resolve("x.html").toString(), "--threshold", "-1").exitCode());
    }
}
