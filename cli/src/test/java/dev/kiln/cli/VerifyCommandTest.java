package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln verify} (the JSON contract, the exit status, what the text form names) and {@code kiln export}. */
class VerifyCommandTest {

    @Test
    void aPassingBackendHasNoDivergentNode() {
        CliRun run = CliRun.of("verify", "--model", "mobilenet_v1_0.25_128", "--backends", "cpu-simd", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertTrue(json.get("passed").asBoolean(), json.toString());
        JsonNode b = json.get("backends").get(0);
        assertEquals("cpu-simd", b.get("backend").asText());
        assertTrue(b.get("passed").asBoolean());
        assertTrue(b.get("first_divergent_node").isNull(), b.toString());
        assertTrue(b.get("fallback_nodes").isArray() && b.get("fallback_nodes").isEmpty(), b.toString());
        double error = b.get("max_rel_error").asDouble();
        assertTrue(error > 0 && error < 1e-3, "cpu-simd rounds differently from the reference, slightly: " + error);
        assertFalse(b.get("worst_node").get("name").asText().isEmpty());
        // Every node's value is compared, not only the output.
        assertEquals(json.get("nodes").asInt(), json.get("values").asInt());
        assertTrue(json.get("nodes").asInt() > 20, json.toString());
    }

    @Test
    void aBackendThatFailsToRunFailsTheVerificationWithExitStatusOne() {
        System.setProperty(FailingBackend.MODE_PROPERTY, "run");
        try {
            CliRun run = CliRun.of("verify", "--model", "mobilenet_v1_0.25_128", "--backends",
                    "cpu-simd," + FailingBackend.ID);
            assertEquals(1, run.exitCode(), run.describe());
            assertTrue(run.out().matches("(?s).*\\ncpu-simd +PASS.*"), run.describe());
            assertTrue(run.out().matches("(?s).*\\n" + FailingBackend.ID + " +FAIL.*"), run.describe());
            assertTrue(run.out().contains(FailingBackend.FAILURE), run.describe());
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
    }

    @Test
    void anUnknownBackendIsAUsageError() {
        CliRun run = CliRun.of("verify", "--model", "mobilenet_v1_0.25_128", "--backends", "no-such");
        assertEquals(2, run.exitCode(), run.describe());
        assertTrue(run.err().contains("unknown backend 'no-such'"), run.describe());
    }

    @Test
    void anExportedModelVerifiesAndRunsAgain(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String file = dir.resolve("m.onnx").toString();
        CliRun export = CliRun.of("export", "--model", "mobilenet_v1_0.25_128", "--optimized", "--output", file);
        assertEquals(0, export.exitCode(), export.describe());
        CliRun verify = CliRun.of("verify", "--model", file, "--backends", "cpu-simd", "--json");
        assertEquals(0, verify.exitCode(), verify.describe());
        assertTrue(verify.json().get("passed").asBoolean());
        CliRun run = CliRun.of("run", "--model", file, "--json");
        assertEquals(0, run.exitCode(), run.describe());
    }

    @Test
    void theOptimizerIsVerifiedOnTheReplayCommandKilnFuzzWritesForAnOptimizerFinding(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        // A generated graph with a residual convolution and more, written as an optimizer finding is.
        dev.kiln.conformance.fuzz.GraphRecipe recipe = dev.kiln.conformance.fuzz.RecipeGenerator.generate(4, 2, 8);
        new dev.kiln.conformance.fuzz.FindingWriter(dev.kiln.Engine.create()).write(recipe,
                dev.kiln.conformance.fuzz.CaseChecker.OPTIMIZER, dir);
        String command = java.nio.file.Files.readAllLines(dir.resolve("replay.txt")).getFirst();
        assertTrue(command.startsWith("kiln verify --optimizer --model "), command);
        String[] args = command.substring("kiln ".length()).split(" ");
        CliRun run = CliRun.of(args);
        assertEquals(0, run.exitCode(), run::describe);
        assertTrue(run.out().contains("optimized against unoptimized on the reference backend: PASSED"), run::describe);
        CliRun json = CliRun.of(java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--json")).toArray(String[]::new));
        assertEquals(0, json.exitCode(), json::describe);
        assertEquals("PASSED", json.json().get("status").asText(), json::describe);
        assertTrue(json.json().get("passed").asBoolean(), json::describe);
        assertTrue(json.json().get("node").isNull(), json::describe);
    }

    @Test
    void theOptimizerCheckTakesNoBackends() {
        CliRun run = CliRun.of("verify", "--optimizer", "--model", "mobilenet_v1_0.25_128", "--backends", "cpu-simd");
        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.err().contains("--optimizer checks the optimizer on the reference backend"), run::describe);
    }
}
