package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import dev.kiln.models.io.Npy;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands run in-process, as a user would type them, checked through what they print. */
class KilnCommandsTest {
    @TempDir
    Path dir;

    @Test
    void modelsJsonListsResNet50WithItsParameterCount() {
        CliRun run = CliRun.of("models", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode resnet50 = find(run.json(), "name", "resnet50");
        assertNotNull(resnet50, run.out());
        // torchvision's resnet50 has 25,557,032 parameters.
        assertEquals(25_557_032L, resnet50.get("params").asLong());
        assertEquals("resnet", resnet50.get("family").asText());
        assertEquals("[1,3,224,224]", resnet50.get("input_shape").toString());
        assertTrue(resnet50.get("macs").asLong() > 4_000_000_000L, resnet50.toString());
    }

    @Test
    void backendsJsonListsReferenceAsAvailableAndTheAutoChoice() {
        CliRun run = CliRun.of("backends", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        JsonNode reference = find(json.get("backends"), "id", "reference");
        assertNotNull(reference, run.out());
        assertTrue(reference.get("available").asBoolean());
        assertEquals("cpu", reference.get("devices").get(0).get("kind").asText());
        String auto = json.get("auto").asText();
        JsonNode chosen = find(json.get("backends"), "id", auto);
        assertNotNull(chosen, "auto names a listed backend: " + auto);
        assertTrue(chosen.get("available").asBoolean(), "auto picks an available backend");
        for (JsonNode b : json.get("backends")) {
            assertTrue(b.has("rank") && b.has("reason") && b.has("description") && b.has("devices"), b.toString());
            if (b.get("available").asBoolean()) {
                assertTrue(b.get("rank").asInt() <= chosen.get("rank").asInt(), "auto is the highest-ranked: " + b);
            }
        }
    }

    @Test
    void backendsJsonGivesEveryDeviceItsKindMemoryAndComputeUnits() {
        CliRun run = CliRun.of("backends", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        int devices = 0;
        for (JsonNode b : run.json().get("backends")) {
            if (!b.get("available").asBoolean()) {
                continue;
            }
            for (JsonNode d : b.get("devices")) {
                devices++;
                assertTrue(Set.of("cpu", "gpu", "accelerator").contains(d.get("kind").asText()), d.toString());
                // Every backend of this module knows its devices' memory and parallelism.
                assertTrue(d.get("global_memory_bytes").asLong() > 0, b.get("id") + ": " + d);
                assertTrue(d.get("compute_units").asInt() > 0, b.get("id") + ": " + d);
            }
        }
        assertTrue(devices > 0, run.out());
    }

    @Test
    void backendsShowsEachOpenClDevicesTypeMemoryAndComputeUnits() {
        CliRun json = CliRun.of("backends", "--json");
        JsonNode opencl = find(json.json().get("backends"), "id", "opencl");
        assertNotNull(opencl, json.out());
        CliRun.assumeOpenClOrRequired(opencl.get("available").asBoolean(), () -> "not run: no OpenCL runtime here (./run-tests installs"
                + " PoCL): " + opencl.get("reason").asText());
        CliRun run = CliRun.of("backends");
        assertEquals(0, run.exitCode(), run.describe());
        String row = run.out().lines().filter(l -> l.startsWith("opencl ")).findFirst()
                .orElseThrow(() -> new AssertionError(run.out()));
        for (JsonNode d : opencl.get("devices")) {
            String shown = String.format(Locale.ROOT, "%s (%s; %s, %d compute units, %.1f GiB)", d.get("id").asText(),
                    d.get("name").asText(), d.get("kind").asText(), d.get("compute_units").asInt(),
                    d.get("global_memory_bytes").asLong() / (double) (1L << 30));
            assertTrue(row.contains(shown), row + " should show " + shown);
        }
    }

    @Test
    void runPrintsTheOutputShapeAndTopFiveInJson() {
        CliRun run = CliRun.of("run", "--model", "mobilenet_v2", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertEquals("mobilenet_v2", json.get("model").asText());
        assertEquals("[1,1000]", json.get("output_shape").toString());
        assertEquals(1, json.get("batch").asInt());
        assertFalse(json.get("backend").asText().isEmpty());
        assertTrue(json.get("latency_ms").asDouble() > 0);
        JsonNode top5 = json.get("top5");
        assertEquals(1, top5.size(), "one list per batch item");
        assertEquals(5, top5.get(0).size());
        for (int i = 1; i < 5; i++) {
            assertTrue(top5.get(0).get(i - 1).get(1).asDouble() >= top5.get(0).get(i).get(1).asDouble(),
                    "best first: " + top5);
        }
    }

    @Test
    void runOutputFileHoldsWhatTheModelComputesOnTheSeededInput() throws IOException {
        Path output = dir.resolve("logits.npy");
        CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--backend", "reference", "--seed", "7",
                "--output", output.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());

        float[] expected;
        try (Graph graph = Models.byName("mobilenet_v1").build(7);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID);
             Tensor input = RandomInput.normal(Models.byName("mobilenet_v1").inputShape().withDim(0, 1), 7);
             Tensor out = model.run(input)) {
            expected = out.toFloatArray();
        }
        try (Tensor written = Npy.read(output)) {
            assertEquals(Shape.of(1, 1000), written.shape());
            assertArrayEquals(expected, written.toFloatArray());
        }
        int best = 0;
        for (int i = 1; i < expected.length; i++) {
            best = expected[i] > expected[best] ? i : best;
        }
        assertEquals(best, run.json().get("top5").get(0).get(0).get(0).asInt());
    }

    @Test
    void runTakesItsBatchFromTheInputFile() throws IOException {
        Path input = dir.resolve("batch2.npy");
        try (Tensor t = RandomInput.normal(Shape.of(2, 3, 224, 224), 1)) {
            Npy.write(input, t);
        }
        CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--input", input.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(2, run.json().get("batch").asInt());
        assertEquals("[2,1000]", run.json().get("output_shape").toString());
        assertEquals(2, run.json().get("top5").size());
    }

    @Test
    void benchMeasuresEveryAvailableBackendAgainstTheReference() {
        CliRun run = CliRun.of("bench", "--model", "mobilenet_v1", "--runs", "1", "--warmup", "0", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode results = run.json();
        Set<String> benched = new HashSet<>();
        for (JsonNode r : results) {
            for (String key : List.of("model", "backend", "batch", "median_ms", "runs", "max_rel_error", "min_ms",
                    "max_ms", "images_per_s", "device", "compile_ms", "selected_backend", "p90_ms")) {
                assertTrue(r.has(key), "missing " + key + " in " + r);
            }
            assertEquals(r.get("backend").asText(), r.get("selected_backend").asText(), "named, so it ran: " + r);
            assertTrue(r.get("compile_ms").asDouble() > 0, r.toString());
            assertEquals("mobilenet_v1", r.get("model").asText());
            assertEquals(1, r.get("batch").asInt());
            assertEquals(1, r.get("runs").asInt());
            assertTrue(r.get("median_ms").asDouble() > 0, r.toString());
            assertTrue(r.get("min_ms").asDouble() <= r.get("max_ms").asDouble(), r.toString());
            assertTrue(r.get("median_ms").asDouble() <= r.get("p90_ms").asDouble()
                    && r.get("p90_ms").asDouble() <= r.get("max_ms").asDouble(), r.toString());
            benched.add(r.get("backend").asText());
        }
        Set<String> available = new HashSet<>();
        for (Engine.BackendInfo b : Engine.create().backends()) {
            if (b.available()) {
                available.add(b.id());
            }
        }
        assertEquals(available, benched);
        assertEquals(available.size(), results.size(), "one object per backend");
        assertEquals(0.0, find(results, "backend", "reference").get("max_rel_error").asDouble());
        assertTrue(run.err().contains("mobilenet_v1"), "progress on stderr: " + run.err());
    }

    @Test
    void benchTableNamesModelAndBackend() {
        CliRun run = CliRun.of("bench", "--model", "mobilenet_v1", "--backend", "reference", "--runs", "1",
                "--warmup", "0");
        assertEquals(0, run.exitCode(), run.describe());
        List<String> lines = run.out().lines().toList();
        assertEquals(2, lines.size(), run.out());
        assertTrue(lines.get(0).startsWith("model") && lines.get(0).contains("median ms")
                && lines.get(0).contains("p90 ms") && lines.get(0).contains("compile ms"), run.out());
        assertTrue(lines.get(1).startsWith("mobilenet_v1") && lines.get(1).contains("reference"), run.out());
    }

    @Test
    void benchWithAutoNamesTheBackendItChoseOnEveryRow() {
        // --select rank keeps this test free of timing; MeasuredSelectionTest covers measuring.
        CliRun run = CliRun.of("--select", "rank", "bench", "--model", "mobilenet_v1", "--backend", "auto",
                "--runs", "1", "--warmup", "0", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode row = run.json().get(0);
        assertEquals("auto", row.get("backend").asText());
        assertEquals(Engine.create().autoChoice(), row.get("selected_backend").asText(), row.toString());
        CliRun table = CliRun.of("--select", "rank", "bench", "--model", "mobilenet_v1", "--backend", "auto",
                "--runs", "1", "--warmup", "0");
        assertTrue(table.out().contains("auto -> " + Engine.create().autoChoice()), table.out());
    }

    @Test
    void benchProfileListsEveryNodeInJsonAndTheSlowestInTheTable() {
        CliRun json = CliRun.of("bench", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--runs", "2",
                "--warmup", "0", "--warmup-time", "0", "--profile", "--json");
        assertEquals(0, json.exitCode(), json.describe());
        JsonNode result = json.json().get(0);
        JsonNode profile = result.get("profile");
        Set<String> nodes = new HashSet<>();
        for (JsonNode e : profile) {
            assertEquals(2, e.get("runs").asInt(), e.toString());
            // A node computed inside another node's step (cpu-simd's fused expansion and depthwise) shows 0.
            assertTrue(e.get("median_micros").asDouble() > 0 || e.get("algorithm").asText().contains("timed with"),
                    e.toString());
            if (e.get("kind").asText().equals("NODE")) {
                nodes.add(e.get("name").asText());
                assertEquals("cpu-simd", e.get("backend").asText(), e.toString());
                assertFalse(e.get("algorithm").asText().isEmpty(), e.toString());
            }
        }
        CliRun explain = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--json");
        Set<String> placed = new HashSet<>();
        explain.json().get("nodes").forEach(n -> placed.add(n.get("name").asText()));
        assertEquals(placed, nodes, "one profile entry per node of the compiled graph");
        // Against the machine peak, cpu-simd being on the host CPU; and by class of layer.
        double peak = result.get("peak_gflop_per_s").asDouble();
        assertTrue(peak > 0 && result.get("peak").asText().contains("GFLOP/s FP32 on"), result.get("peak").toString());
        Map<String, long[]> nodesAndMacs = new HashMap<>();
        Map<String, Double> micros = new HashMap<>();
        for (JsonNode e : profile) {
            if (e.get("kind").asText().equals("NODE")) {
                String c = e.get("op_class").asText();
                long[] n = nodesAndMacs.computeIfAbsent(c, k -> new long[2]);
                n[0]++;
                n[1] += e.get("macs").asLong();
                micros.merge(c, e.get("median_micros").asDouble(), Double::sum);
                assertEquals(e.get("macs").asLong() > 0, e.has("pct_of_peak"), e.toString());
                if (e.get("macs").asLong() > 0 && e.get("median_micros").asDouble() > 0) {
                    assertEquals(100 * e.get("gflop_per_s").asDouble() / peak, e.get("pct_of_peak").asDouble(), 0.06,
                            e.toString());
                }
            }
        }
        assertTrue(nodesAndMacs.keySet().containsAll(List.of("1x1 conv", "3x3 conv", "depthwise conv")),
                "MobileNet v1's layers: " + nodesAndMacs.keySet());
        JsonNode classes = result.get("profile_classes");
        assertEquals(nodesAndMacs.size(), classes.size(), classes.toString());
        for (JsonNode c : classes) {
            long[] n = nodesAndMacs.get(c.get("op_class").asText());
            assertEquals(n[0], c.get("nodes").asLong(), c.toString());
            assertEquals(n[1], c.get("macs").asLong(), c.toString());
            if (n[1] > 0) {
                double gflops = 2.0 * n[1] / (micros.get(c.get("op_class").asText()) * 1e3);
                assertEquals(gflops, c.get("gflop_per_s").asDouble(), 0.006 + 1e-3 * gflops, c.toString());
                assertEquals(100 * gflops / peak, c.get("pct_of_peak").asDouble(), 0.06 + 1e-3 * gflops, c.toString());
            }
        }
        assertTrue(CliRun.of("bench", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--runs", "1", "--warmup-time", "0",
                "--json").json().get(0)
                .get("profile") == null, "no profile unless asked for");

        CliRun table = CliRun.of("bench", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--runs", "1",
                "--warmup", "0", "--warmup-time", "0", "--profile", "3");
        assertEquals(0, table.exitCode(), table.describe());
        List<String> lines = table.out().lines().toList();
        assertTrue(lines.get(3).startsWith("mobilenet_v1 on cpu-simd, batch 1: the 3 slowest of"), table.out());
        assertTrue(lines.get(4).startsWith("peak: ") && lines.get(4).contains("GFLOP/s FP32 on"), table.out());
        assertTrue(lines.get(5).contains("median us") && lines.get(5).contains("% of peak")
                && lines.get(5).contains("algorithm"), table.out());
        assertEquals("by class of layer:", lines.get(10), table.out());
        assertTrue(lines.get(11).contains("class") && lines.get(11).contains("% of peak"), table.out());
        assertTrue(lines.stream().skip(12).anyMatch(l -> l.startsWith("depthwise conv")), table.out());
        assertEquals(ErrorReporter.USAGE, CliRun.of("bench", "--profile", "0").exitCode());
    }

    @Test
    void aBackendThatFailsToRunIsReportedAndDoesNotStopTheOthers() {
        CliRun run = benchWithFailingBackend("run");
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        JsonNode results = run.json();
        assertNotNull(find(results, "backend", "reference"), run.out());
        assertNull(find(results, "backend", FailingBackend.ID), run.out());
        assertTrue(run.err().contains("kiln: warning: mobilenet_v1 on " + FailingBackend.ID + " failed: "
                + FailingBackend.FAILURE), run.err());
    }

    @Test
    void aBackendDroppedWhileCompilingIsBenchedWithItsFallbacksShown() {
        CliRun run = benchWithFailingBackend("compile");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode failing = find(run.json(), "backend", FailingBackend.ID);
        assertNotNull(failing, run.out());
        int placedNodes;
        try (Graph graph = Models.byName("mobilenet_v1").build(WeightInit.ZEROS);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID)) {
            placedNodes = model.placements().size(); // after the optimizer's fusions
        }
        assertEquals(placedNodes, failing.get("fallback_nodes").asInt(), "every node ran elsewhere");
        assertEquals(0, find(run.json(), "backend", "reference").get("fallback_nodes").asInt());
        assertTrue(run.err().contains("kiln: warning: mobilenet_v1 on " + FailingBackend.ID
                + ": a backend was dropped"), run.err());
    }

    private static CliRun benchWithFailingBackend(String mode) {
        System.setProperty(FailingBackend.MODE_PROPERTY, mode);
        try {
            return CliRun.of("bench", "--model", "mobilenet_v1", "--runs", "1", "--warmup", "0", "--json");
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
    }

    @Test
    void unknownModelIsAUsageErrorNamingIt() {
        for (String command : List.of("run", "bench")) {
            CliRun run = CliRun.of(command, "--model", "resnet5O");
            assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
            assertOneErrorLine(run, "unknown model 'resnet5O'");
        }
    }

    @Test
    void unknownBackendIsAUsageErrorNamingIt() {
        for (String command : List.of("run", "bench")) {
            CliRun run = CliRun.of(command, "--model", "mobilenet_v1", "--backend", "tpu");
            assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
            assertOneErrorLine(run, "unknown backend 'tpu'");
        }
    }

    @Test
    void aBadBackendFromTheEnvironmentIsNamedAsSuch() {
        System.setProperty(Engine.BACKEND_PROPERTY, "tpu");
        try {
            CliRun run = CliRun.of("run", "--model", "mobilenet_v1");
            assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
            assertOneErrorLine(run, "unknown backend 'tpu' (set by KILN_BACKEND or -Dkiln.backend)");
        } finally {
            System.clearProperty(Engine.BACKEND_PROPERTY);
        }
    }

    @Test
    void unavailableBackendIsARuntimeErrorWithItsReason() {
        for (String command : List.of("run", "bench")) {
            CliRun run = CliRun.of(command, "--model", "mobilenet_v1", "--backend", NeverAvailableBackend.ID);
            assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
            assertOneErrorLine(run, "backend '" + NeverAvailableBackend.ID + "' is not available: "
                    + NeverAvailableBackend.REASON);
        }
    }

    @Test
    void backendsListsAnUnavailableBackendWithItsReason() {
        CliRun run = CliRun.of("backends");
        assertEquals(0, run.exitCode(), run.describe());
        String row = run.out().lines().filter(l -> l.startsWith(NeverAvailableBackend.ID + " ")).findFirst()
                .orElseThrow(() -> new AssertionError(run.out()));
        assertTrue(row.contains(" no ") && row.endsWith(NeverAvailableBackend.REASON), row);
    }

    @Test
    void aModelFileThatIsNotOnnxIsARuntimeErrorNamingTheFile() throws IOException {
        Path notOnnx = Files.writeString(dir.resolve("net.onnx"), "not a protobuf\n");
        CliRun run = CliRun.of("run", "--model", notOnnx.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertOneErrorLine(run, "net.onnx");
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        Path notOnnx = Files.writeString(dir.resolve("net.onnx"), "not a protobuf\n");
        CliRun run = CliRun.of("run", "--model", notOnnx.toString(), "--verbose");
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertTrue(run.err().startsWith("kiln: error: ") && run.err().lines().findFirst().orElseThrow()
                .contains("net.onnx"), run.err());
        assertTrue(run.err().contains("\tat dev.kiln.cli."), run.err());
    }

    @Test
    void badNpyInputIsARuntimeErrorNamingTheFile() throws IOException {
        Path garbage = Files.writeString(dir.resolve("garbage.npy"), "not numpy at all");
        CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--input", garbage.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertOneErrorLine(run, "garbage.npy: not a .npy file");

        CliRun missing = CliRun.of("run", "--model", "mobilenet_v1", "--input", dir.resolve("absent.npy").toString());
        assertEquals(ErrorReporter.RUNTIME, missing.exitCode(), missing.describe());
        assertOneErrorLine(missing, "no such file: ");
    }

    @Test
    void inputOfTheWrongShapeIsARuntimeErrorSayingWhatIsExpected() throws IOException {
        Path small = dir.resolve("small.npy");
        try (Tensor t = Tensor.allocate(1, 3, 32, 32)) {
            Npy.write(small, t);
        }
        CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--input", small.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertOneErrorLine(run,
                "small.npy holds a [1, 3, 32, 32] tensor, but model mobilenet_v1 expects [?, 3, 224, 224]");
    }

    @Test
    void onlyAnUnexpectedExceptionIsAnInternalErrorWithItsOwnExitCode() {
        System.setProperty(FailingBackend.MODE_PROPERTY, "bug");
        try {
            CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--backend", FailingBackend.ID);
            assertEquals(ErrorReporter.INTERNAL, run.exitCode(), run.describe());
            assertOneErrorLine(run, "internal error: java.lang.IllegalStateException: " + FailingBackend.FAILURE);
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
        System.setProperty(FailingBackend.MODE_PROPERTY, "run");
        try {
            CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--backend", FailingBackend.ID);
            assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
            assertOneErrorLine(run, FailingBackend.FAILURE);
            assertFalse(run.err().contains("internal error"), run.err());
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(ErrorReporter.USAGE, CliRun.of("bench", "--runs", "0").exitCode());
        CliRun badBatch = CliRun.of("bench", "--batch", "1,0");
        assertEquals(ErrorReporter.USAGE, badBatch.exitCode());
        assertOneErrorLine(badBatch, "--batch must be at least 1, got 0");
        assertEquals(ErrorReporter.USAGE, CliRun.of("run", "--model", "mobilenet_v1", "--batch", "0").exitCode());
        CliRun unknownOption = CliRun.of("models", "--colour");
        assertEquals(ErrorReporter.USAGE, unknownOption.exitCode());
        assertOneErrorLine(unknownOption, "--colour");
        CliRun noCommand = CliRun.of();
        assertEquals(ErrorReporter.USAGE, noCommand.exitCode());
        assertTrue(noCommand.err().contains("Commands:"), noCommand.err());
    }

    private static void assertOneErrorLine(CliRun run, String expected) {
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), "one line on stderr: " + run.err());
        assertTrue(lines.getFirst().startsWith("kiln: error: ") && lines.getFirst().contains(expected),
                "expected '" + expected + "' in: " + run.err());
        assertEquals("", run.out());
    }

    private static JsonNode find(JsonNode array, String key, String value) {
        List<JsonNode> found = new ArrayList<>();
        array.forEach(n -> {
            if (value.equals(n.path(key).asText())) {
                found.add(n);
            }
        });
        return found.isEmpty() ? null : found.getFirst();
    }
}
