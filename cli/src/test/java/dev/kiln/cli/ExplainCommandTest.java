package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln explain}: the optimizer's work and the memory plan, as the JSON contract states them. */
class ExplainCommandTest {

    @Test
    void explainsResNet50FusionsAndItsMemoryPlan() {
        CliRun run = CliRun.of("explain", "--model", "resnet50", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertEquals(53, json.get("ops_before").get("BatchNormalization").asInt(), json.toString());
        assertEquals(16, json.get("ops_before").get("Add").asInt(), json.toString());
        assertFalse(json.get("ops_after").has("BatchNormalization"), json.toString());
        assertFalse(json.get("ops_after").has("Add"), "every residual Add is fused: " + json);
        assertEquals(53, json.get("passes").get("batch-norm-folding").asInt(), json.toString());
        assertEquals(16, json.get("passes").get("residual-add-fusion").asInt(), json.toString());

        long planned = json.get("planned_peak_bytes").asLong();
        long naive = json.get("naive_activation_bytes").asLong();
        long largest = json.get("largest_activation_bytes").asLong();
        // The largest activation of ResNet-50 at batch 1 is 64x112x112 (after the stem) floats.
        assertEquals(64L * 112 * 112 * Float.BYTES, largest);
        assertTrue(planned <= 4 * largest, "planned peak " + planned + " exceeds 4x the largest tensor " + largest);
        assertTrue(planned < naive / 5, "sharing saves most of " + naive + " bytes, planned " + planned);
    }

    @Test
    void everyNodeNamesItsBackendKernelAndProvider() {
        JsonNode json = CliRun.of("explain", "--model", "mobilenet_v2", "--backend", "cpu-simd", "--json").json();
        JsonNode nodes = json.get("nodes");
        int total = json.get("ops_after").properties().stream().mapToInt(e -> e.getValue().asInt()).sum();
        assertEquals(total, nodes.size(), json.toString());
        for (JsonNode n : nodes) {
            for (String key : new String[]{"name", "op", "backend", "kernel", "provider", "algorithm"}) {
                assertTrue(n.hasNonNull(key), key + " missing in " + n);
            }
            assertEquals("cpu-simd", n.get("backend").asText(), n.toString());
            assertFalse(n.get("kernel").asText().isEmpty(), n.toString());
        }
        JsonNode depthwise = nodes.findParents("kernel").stream()
                .filter(n -> n.get("kernel").asText().equals("conv-depthwise")).findFirst().orElseThrow();
        assertTrue(depthwise.get("algorithm").asText().startsWith("depthwise 3x3"), depthwise.toString());
        assertEquals("cpu-simd", depthwise.get("provider").asText());
        assertTrue(json.get("prepared_weight_bytes").asLong() > 3_400_000L * 4, "MobileNet v2 has 3.5M weights: "
                + json.get("prepared_weight_bytes"));

        JsonNode reference = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "reference", "--json").json();
        for (JsonNode n : reference.get("nodes")) {
            assertEquals("reference", n.get("provider").asText(), n.toString());
        }
    }

    @Test
    void compileTimeSpansThePartitionsCompiles() {
        JsonNode json = CliRun.of("explain", "--model", "mobilenet_v2", "--backend", "cpu-simd", "--json").json();
        double partitions = 0;
        for (JsonNode p : json.get("partition_details")) {
            partitions += p.get("compile_ms").asDouble();
        }
        double compile = json.get("compile_ms").asDouble();
        assertTrue(partitions > 0, json.toString());
        assertTrue(compile >= partitions, "compile_ms " + compile + " covers the partitions' " + partitions);
    }

    @Test
    void theBatchScalesTheActivationBytes() {
        JsonNode one = CliRun.of("explain", "--model", "mobilenet_v2", "--json").json();
        JsonNode four = CliRun.of("explain", "--model", "mobilenet_v2", "--batch", "4", "--json").json();
        assertEquals(4 * one.get("naive_activation_bytes").asLong(), four.get("naive_activation_bytes").asLong());
        assertEquals(4, four.get("batch").asInt());
    }

    @Test
    void listsEachBoundaryValueAsResidentOrHost(@TempDir Path dir) throws IOException {
        Path model = OnnxTestFiles.residualAroundLrn(dir.resolve("residual.onnx"));
        JsonNode json = CliRun.of("explain", "--model", model.toString(), "--backend", "cpu-simd", "--json").json();
        assertEquals(3, json.get("partitions").asInt(), json.toString());
        Map<String, String> crossing = new TreeMap<>();
        json.get("boundaries").forEach(b -> crossing.put(b.get("value").asText(), b.get("crossing").asText()));
        // a skips the LRN (which falls back to reference) from cpu-simd to cpu-simd; b and c enter and leave it.
        assertEquals(Map.of("a", "resident", "b", "host", "c", "host"), crossing, json.toString());
        long bytes = 3 * 4 * 4 * Float.BYTES;
        assertEquals(4 * bytes, json.get("boundary_host_bytes_per_run").asLong(), json.toString());

        CliRun text = CliRun.of("explain", "--model", model.toString(), "--backend", "cpu-simd");
        assertTrue(text.out().contains("boundaries: 3 value(s) cross between partitions, 1 resident"), text.out());
    }

    @Test
    void aPinnedNodeRunsOnItsBackendAndABadPinIsAnError() {
        JsonNode plain = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--json").json();
        String node = plain.get("nodes").get(3).get("name").asText();
        CliRun pinned = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--pin",
                node + "=reference", "--json");
        assertEquals(0, pinned.exitCode(), pinned.describe());
        JsonNode json = pinned.json();
        JsonNode row = json.get("nodes").get(3);
        assertEquals(node, row.get("name").asText());
        assertEquals("reference", row.get("backend").asText(), row.toString());
        assertEquals("pinned to reference", row.get("reason").asText(), row.toString());
        assertEquals(1, json.get("nodes_per_backend").get("reference").asInt(), json.toString());
        assertEquals(3, json.get("partitions").asInt(), json.toString());
        assertEquals("not planned", json.get("selection").get("mixed").get("status").asText(), json.toString());

        CliRun text = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "cpu-simd", "--pin",
                node + "=reference");
        assertTrue(text.out().contains("pinned: " + node + " -> reference"), text.describe());

        CliRun unknownNode = CliRun.of("explain", "--model", "mobilenet_v1", "--pin", "no.such.node=reference");
        assertEquals(1, unknownNode.exitCode(), unknownNode.describe());
        assertTrue(unknownNode.err().contains("'no.such.node'"), unknownNode.describe());
        CliRun unknownBackend = CliRun.of("explain", "--model", "mobilenet_v1", "--pin", node + "=gpu9");
        assertEquals(1, unknownBackend.exitCode(), unknownBackend.describe());
        assertTrue(unknownBackend.err().contains("unknown backend 'gpu9'"), unknownBackend.describe());
    }

    @Test
    void humanOutputNamesThePassesAndThePlan() {
        CliRun run = CliRun.of("explain", "--model", "mobilenet_v1");
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().contains("batch-norm-folding"), run.out());
        assertTrue(run.out().contains("memory plan:"), run.out());
    }

    @Test
    void everyPartitionHasItsCompileTimeAndAProgramOnlyWhereABackendBuildsOne() {
        JsonNode json = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "reference", "--json").json();
        JsonNode partitions = json.get("partition_details");
        assertEquals(json.get("partitions").asInt(), partitions.size(), json.toString());
        int nodes = 0;
        for (JsonNode p : partitions) {
            assertEquals("reference", p.get("backend").asText(), p.toString());
            assertTrue(p.get("compile_ms").asDouble() >= 0, p.toString());
            assertTrue(p.get("program_origin").isNull() && p.get("program_build_ms").isNull(), p.toString());
            nodes += p.get("nodes").asInt();
        }
        assertEquals(json.get("nodes").size(), nodes, json.toString());
    }

    /**
     * The OpenCL program is built or loaded from the disk cache by the first model that uses a
     * device in a process, and reused from memory by the next: explain says which, and the time.
     */
    @Test
    void openClPartitionsSayWhereTheirProgramCameFromAndHowLongItTook() {
        JsonNode backends = CliRun.of("backends", "--json").json().get("backends");
        JsonNode opencl = backends.findParents("id").stream().filter(b -> b.get("id").asText().equals("opencl"))
                .findFirst().orElseThrow(() -> new AssertionError(backends.toString()));
        CliRun.assumeOpenClOrRequired(opencl.get("available").asBoolean(), () -> "not run: no OpenCL runtime here (./run-tests installs"
                + " PoCL): " + opencl.get("reason").asText());

        JsonNode first = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "opencl", "--json").json();
        JsonNode firstPartition = first.get("partition_details").get(0);
        assertEquals("opencl", firstPartition.get("backend").asText(), first.toString());
        assertTrue(Set.of("compiled", "disk_cache", "memory_cache").contains(
                firstPartition.get("program_origin").asText()), firstPartition.toString());
        assertTrue(firstPartition.get("program_build_ms").asDouble() >= 0, firstPartition.toString());

        CliRun again = CliRun.of("explain", "--model", "mobilenet_v1", "--backend", "opencl");
        assertEquals(0, again.exitCode(), again.describe());
        String line = again.out().lines().filter(l -> l.startsWith("  0 on opencl: ")).findFirst()
                .orElseThrow(() -> new AssertionError(again.out()));
        assertTrue(line.contains("device program from the memory cache in ")
                && line.contains("earlier in this process it was "), line);
    }
}
