package dev.kiln.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a process maps and prints, seen from a fresh JVM: naming one backend (by the API,
 * {@code --backend} or {@code KILN_BACKEND}) loads no other backend's native library, and
 * {@code --json} output stays pure JSON when OpenCL or both native backends are missing. Child
 * JVMs, since a library once mapped stays mapped and JOCL's native code prints to the process's
 * own standard output, which an in-process run cannot capture.
 */
class NamedBackendLoadsAloneTest {
    /** Library files of the native backends and of what they pull in (PoCL's devices start threads). */
    private static final List<String> FOREIGN = List.of("libdnnl", "libgomp", "kiln-onednn-kernels", "libOpenCL",
            "libpocl", "JOCL");
    private static final String SMALL_MODEL = "mobilenet_v1_0.25_128";

    /** Runs the kiln command in-process, then prints the native libraries mapped, one per line, on stderr. */
    public static final class CommandThenMaps {
        public static void main(String[] args) throws IOException {
            int code = Kiln.commandLine().execute(args);
            printMapped();
            System.exit(code);
        }
    }

    /** Compiles and runs a small model on the backend named in args[0] through the API, then prints the maps. */
    public static final class ApiThenMaps {
        public static void main(String[] args) throws IOException {
            try (Engine engine = Engine.create();
                 Graph graph = Models.byName(SMALL_MODEL).build(1);
                 CompiledModel model = engine.compile(graph, args[0]);
                 Tensor image = Tensor.allocate(1, 3, 128, 128);
                 Tensor out = model.run(image)) {
                System.out.println(model.backend() + " " + out.shape());
            }
            printMapped();
        }
    }

    private static void printMapped() throws IOException {
        Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(line -> line.contains("/"))
                .map(line -> line.substring(line.indexOf('/')))
                .filter(file -> FOREIGN.stream().anyMatch(file::contains))
                .distinct()
                .forEach(file -> System.err.println("mapped: " + file));
    }

    private static List<String> mapped(ChildProcess c) {
        return c.err().lines().filter(l -> l.startsWith("mapped: ")).toList();
    }

    private static ChildProcess child(Class<?> main, Map<String, String> env, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ChildProcess.java(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Dkiln.select=" + System.getProperty("kiln.select", "rank")));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return ChildProcess.run(command, env);
    }

    private static void assertOnlyPureJava(ChildProcess c) {
        assertEquals(0, c.exit(), c.describe());
        assertEquals(List.of(), mapped(c), c.describe());
    }

    @Test
    void backendFlagMapsNoOtherBackendsLibrary() throws Exception {
        assertOnlyPureJava(child(CommandThenMaps.class, Map.of(), List.of(),
                "run", "--model", SMALL_MODEL, "--backend", "cpu-simd"));
    }

    @Test
    void benchOfOneBackendMapsNoOtherBackendsLibrary() throws Exception {
        assertOnlyPureJava(child(CommandThenMaps.class, Map.of(), List.of(),
                "bench", "--model", SMALL_MODEL, "--backend", "cpu-simd", "--runs", "1", "--warmup-time", "0",
                "--json"));
    }

    @Test
    void environmentVariableMapsNoOtherBackendsLibrary() throws Exception {
        assertOnlyPureJava(child(CommandThenMaps.class, Map.of("KILN_BACKEND", "cpu-simd"), List.of(),
                "explain", "--model", SMALL_MODEL));
    }

    @Test
    void apiChoiceMapsNoOtherBackendsLibrary() throws Exception {
        ChildProcess c = child(ApiThenMaps.class, Map.of(), List.of(), "cpu-simd");
        assertOnlyPureJava(c);
        assertTrue(c.out().startsWith("cpu-simd [1, 1000]"), c.describe());
    }

    /** Both native backends and OpenCL hidden the way a user can: library overrides naming no file. */
    private static final List<String> NO_NATIVE_OPTIONS = List.of(
            "-Dkiln.opencl.library=/nonexistent-kiln-test/libOpenCL.so.1",
            "-Dkiln.onednn.library=/nonexistent-kiln-test/libdnnl.so.3");

    static JsonNode strictJson(ChildProcess c) {
        assertEquals(0, c.exit(), c.describe());
        try {
            // One JSON document and nothing after it, as python3 -m json.tool requires.
            return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(c.out());
        } catch (IOException e) {
            throw new AssertionError("stdout is not one JSON document: " + e.getMessage() + "\n" + c.describe(), e);
        }
    }

    private static JsonNode backendEntry(JsonNode backends, String id) {
        for (JsonNode b : backends.get("backends")) {
            if (b.get("id").asText().equals(id)) {
                return b;
            }
        }
        throw new AssertionError("backend " + id + " not listed: " + backends);
    }

    @Test
    void jsonStaysPureWithNeitherNativeBackendNorOpenCl() throws Exception {
        JsonNode backends = strictJson(child(CommandThenMaps.class, Map.of(), NO_NATIVE_OPTIONS, "backends", "--json"));
        for (String id : List.of("onednn", "opencl")) {
            JsonNode b = backendEntry(backends, id);
            assertTrue(!b.get("available").asBoolean() && b.get("reason").asText().contains("nonexistent-kiln-test"),
                    b.toString());
        }
        assertTrue(backendEntry(backends, "cpu-simd").get("available").asBoolean(), backends.toString());
        JsonNode bench = strictJson(child(CommandThenMaps.class, Map.of(), NO_NATIVE_OPTIONS,
                "bench", "--model", SMALL_MODEL, "--runs", "1", "--warmup-time", "0", "--json"));
        assertTrue(bench.isArray() && !bench.isEmpty(), bench.toString());
        // The other commands that compile; run and explain under auto, which asks every backend whether it is available.
        for (List<String> command : List.of(List.of("run", "--model", SMALL_MODEL, "--json"),
                List.of("explain", "--model", SMALL_MODEL, "--json"),
                List.of("verify", "--model", SMALL_MODEL, "--backends", "cpu-simd", "--json"))) {
            List<String> args = new ArrayList<>(command);
            JsonNode json = strictJson(child(CommandThenMaps.class, Map.of(), NO_NATIVE_OPTIONS,
                    args.toArray(String[]::new)));
            assertTrue(json.isObject() && !json.isEmpty(), command + ": " + json);
        }
    }

    @Test
    void jsonStaysPureWithAnIcdLoaderButNoPlatform() throws Exception {
        Path empty = Files.createTempDirectory("no-icd");
        try {
            // The ICD loader reads its drivers from this folder: an empty one means no platform.
            JsonNode backends = strictJson(child(CommandThenMaps.class, Map.of("OCL_ICD_VENDORS", empty.toString()),
                    List.of(), "backends", "--json"));
            JsonNode opencl = backendEntry(backends, "opencl");
            assertTrue(!opencl.get("available").asBoolean(), opencl.toString());
        } finally {
            Files.delete(empty);
        }
    }
}
