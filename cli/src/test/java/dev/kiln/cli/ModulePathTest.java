package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kiln command as named modules: Kiln's artifacts (this build's, as this test's class path has
 * them) on the module path, started with {@code -m dev.kiln.cli/...}. The backends come in by
 * service binding alone (nothing names them), picocli and Jackson reach the commands through the
 * {@code opens} of {@code dev.kiln.cli}, and the engine's runtime package, exported to the command
 * only, is enough for {@code explain}. {@code fuzz} starts its worker JVMs on the same module path.
 */
class ModulePathTest {
    /** Test-only entries, and oneDNN's jar, whose module descriptor requires JavaCPP: it goes on the class path. */
    private static boolean classPathOnly(String entry) {
        return entry.contains("dnnl");
    }

    private static boolean testOnly(String entry) {
        return entry.endsWith("test-classes") || entry.contains("junit") || entry.contains("opentest4j")
                || entry.contains("apiguardian") || entry.contains("surefire");
    }

    private static ChildProcess kiln(String... args) throws Exception {
        List<String> modulePath = new ArrayList<>();
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (testOnly(entry)) {
                continue;
            }
            (classPathOnly(entry) ? classPath : modulePath).add(entry);
        }
        List<String> command = new ArrayList<>(List.of(ChildProcess.java(),
                "--enable-native-access=dev.kiln.nativelib,dev.kiln.onednn,dev.kiln.opencl,jocl",
                "-Dkiln.select=" + System.getProperty("kiln.select", "rank"),
                "-p", String.join(File.pathSeparator, modulePath),
                "-cp", String.join(File.pathSeparator, classPath),
                "-m", "dev.kiln.cli/dev.kiln.cli.Kiln"));
        command.addAll(List.of(args));
        return ChildProcess.run(command, Map.of());
    }

    @Test
    void backendsAreBoundAsServicesOnTheModulePath() throws Exception {
        ChildProcess c = kiln("backends", "--json");
        JsonNode json = NamedBackendLoadsAloneTest.strictJson(c);
        Set<String> available = new TreeSet<>();
        for (JsonNode b : json.get("backends")) {
            if (b.get("available").asBoolean()) {
                available.add(b.get("id").asText());
            }
        }
        // oneDNN comes in a registry package, so it is always there; OpenCL only with a driver.
        assertTrue(available.containsAll(Set.of("cpu-simd", "onednn", "reference")), c.describe());
        assertTrue(c.err().lines().noneMatch(l -> l.contains("restricted method")),
                "native access should be granted by module name:\n" + c.describe());
    }

    /**
     * A report inlines uPlot from its WebJar, which must be readable from the named module too; and
     * the profile's machine peak comes from cpu-simd, which the command reads only if it is there.
     */
    @Test
    void benchWritesItsReportWithThePeakAsNamedModules(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("bench.html");
        ChildProcess bench = kiln("bench", "--model", "mobilenet_v1_0.25_128", "--backend", "cpu-simd", "--runs", "2",
                "--warmup-time", "0", "--profile", "--json", "--report", report.toString());
        JsonNode results = NamedBackendLoadsAloneTest.strictJson(bench);
        assertTrue(results.get(0).get("peak_gflop_per_s").asDouble() > 0, bench.describe());
        String html = Files.readString(report);
        assertTrue(html.contains("uPlot"), "uPlot is inlined");
        assertTrue(html.contains("GFLOP/s FP32 on"), "the peak is on the page");
    }

    @Test
    void runAndExplainWorkAsNamedModules() throws Exception {
        ChildProcess run = kiln("run", "--model", "mobilenet_v1_0.25_128", "--backend", "cpu-simd", "--json");
        JsonNode result = NamedBackendLoadsAloneTest.strictJson(run);
        assertEquals("cpu-simd", result.get("backend").asText(), run.describe());
        ChildProcess explain = kiln("explain", "--model", "mobilenet_v1_0.25_128", "--backend", "onednn", "--json");
        JsonNode plan = NamedBackendLoadsAloneTest.strictJson(explain);
        assertTrue(plan.has("selection"), explain.describe());
    }

    @Test
    void fuzzStartsItsWorkerJvmsOnTheModulePathToo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out)
            throws Exception {
        // Not --in-process: cpu-simd and onednn each run in a worker JVM, which must find Kiln's
        // modules as this command did (started with -cp, a worker here would find no Kiln at all,
        // and every check would be a CRASHED finding).
        ChildProcess c = kiln("fuzz", "--backends", "cpu-simd,onednn", "--cases", "4", "--seed", "3", "--out",
                out.toString(), "--json");
        JsonNode json = NamedBackendLoadsAloneTest.strictJson(c); // exit status 0: nothing found
        assertEquals(0, json.get("findings").size(), c.describe());
        Set<String> checked = new TreeSet<>();
        for (JsonNode t : json.get("targets")) {
            assertEquals(4, t.get("checks").asInt(), c.describe());
            checked.add(t.get("target").asText());
        }
        assertEquals(Set.of("cpu-simd", "onednn"), checked, c.describe());
        assertTrue(c.err().lines().noneMatch(l -> l.contains("restricted method")), c.describe());
    }
}
