package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.cache.KilnCache;
import dev.kiln.cli.report.TunePage;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.selection.MixedPlan;
import dev.kiln.selection.Selection;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.runtime.Selector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each kind of HTML report, written by the command run with {@code --json} and {@code --report}
 * together, opened in headless Chromium (see {@link ReportBrowser} for what every page must pass).
 * Small models: the point is the rendering, including the awkward runs (a failing backend, a
 * fallback, a single run, one node).
 */
class HtmlReportsInBrowserTest {
    private static ReportBrowser browser;

    @TempDir
    Path dir;

    @BeforeAll
    static void openBrowser() {
        browser = new ReportBrowser();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    void benchReportDrawsEveryRunEveryBatchAndTheProfile() throws Exception {
        Path model = OnnxTestFiles.convRelu(dir.resolve("conv.onnx"), 3, 16, 16);
        Path report = dir.resolve("bench.html");
        CliRun run = CliRun.of("bench", "--model", model.toString(), "--batch", "1,2", "--runs", "4",
                "--warmup-time", "0", "--profile", "--json", "--report", report.toString());
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode results = run.json();
        int backends = (int) results.findValues("batch").stream().filter(b -> b.asInt() == 1).count();
        assertTrue(backends >= 2, "the reference backend and at least one other: " + results);
        for (JsonNode r : results) {
            assertEquals(r.get("runs").asInt(), r.get("run_ms").size(), "every timed run is in the JSON: " + r);
        }
        // A latency chart per batch size, images/s against batch size, a profile and its GFLOP/s per result.
        ReportBrowser.Page page = browser.check(report, results, "bench", 2 + 1 + 2 * results.size());
        assertEquals("bench", page.kind());
        String text = browser.text();
        assertTrue(text.contains("Environment") && text.contains("commit"), text);
        // The convolution's GFLOP/s beside the machine peak where the backend computes on the host CPU;
        // "no peak measured" for a device of its own (OpenCL, where a driver is installed).
        for (JsonNode r : results) {
            JsonNode conv = r.get("profile").findParents("op_class").stream()
                    .filter(e -> e.get("op_class").asText().equals("3x3 conv")).findFirst().orElseThrow();
            JsonNode convClass = r.get("profile_classes").get(0);
            assertEquals("3x3 conv", convClass.get("op_class").asText(), "the convolution takes the time: " + r);
            if (r.get("backend").asText().equals("opencl")) {
                assertTrue(r.get("peak").asText().startsWith("no peak measured"), r.toString());
                assertFalse(r.has("peak_gflop_per_s") || conv.has("pct_of_peak"), r.toString());
                assertTrue(text.contains(r.get("peak").asText()), "said on the page: " + r.get("peak"));
            } else {
                double peak = r.get("peak_gflop_per_s").asDouble();
                assertTrue(peak > 0, r.toString());
                assertEquals(100 * conv.get("gflop_per_s").asDouble() / peak, conv.get("pct_of_peak").asDouble(), 0.06,
                        "the node's share of the peak: " + conv);
                assertTrue(convClass.has("pct_of_peak"), convClass.toString());
            }
        }
    }

    @Test
    void benchReportOfAFailingBackendAFallbackAndASingleRunOfOneNodeRenders() throws Exception {
        Path oneNode = OnnxTestFiles.singleRelu(dir.resolve("relu.onnx"));
        Path withLrn = OnnxTestFiles.residualAroundLrn(dir.resolve("lrn.onnx"));
        Path report = dir.resolve("awkward.html");
        System.setProperty(FailingBackend.MODE_PROPERTY, "run");
        CliRun run;
        try {
            run = CliRun.of("bench", "--model", oneNode.toString(), "--model", withLrn.toString(), "--runs", "1",
                    "--warmup", "0", "--warmup-time", "0", "--json", "--report", report.toString());
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        // A latency chart per model; no profile, one batch size.
        browser.check(report, run.json(), "bench-failing-fallback-single-run", 2);
        assertTrue(browser.text().contains(FailingBackend.ID + " failed: " + FailingBackend.FAILURE),
                "the failure is on the page: " + browser.text());
        // cpu-simd does not run LRN: that node falls back, which the results table marks.
        assertTrue(browser.count("td.fallback") > 0, "a fallback is marked");
    }

    @Test
    void verifyReportMarksTheFirstDivergentNodeShadesFallbacksAndGivesTheRepro() throws Exception {
        Path model = OnnxTestFiles.residualAroundLrn(dir.resolve("lrn.onnx"));
        Path report = dir.resolve("verify.html");
        System.setProperty(FailingBackend.MODE_PROPERTY, "zeros");
        CliRun run;
        try {
            run = CliRun.of("verify", "--model", model.toString(), "--backends", "cpu-simd," + FailingBackend.ID,
                    "--reduce", dir.resolve("reduced").toString(), "--json", "--report", report.toString());
        } finally {
            System.clearProperty(FailingBackend.MODE_PROPERTY);
        }
        assertEquals(1, run.exitCode(), run.describe());
        JsonNode failing = run.json().get("backends").get(1);
        assertEquals(FailingBackend.ID, failing.get("backend").asText());
        assertTrue(failing.get("first_divergent_node").isObject(), failing.toString());
        assertTrue(run.json().get("backends").get(0).get("values").findValues("fallback").stream()
                .anyMatch(JsonNode::asBoolean), "cpu-simd runs LRN on a fallback: " + run.out());
        browser.check(report, run.json(), "verify", 1);
        assertEquals(1, browser.count("td.first-divergent"), "one backend diverges, at one node");
        assertTrue(browser.count("td.fallback") > 0, "the fallback node is shaded");
        assertTrue(browser.text().contains(failing.get("reduced").get("command").asText()), browser.text());
    }

    @Test
    void verifyReportOfOneNodeRenders() throws Exception {
        Path model = OnnxTestFiles.singleRelu(dir.resolve("relu.onnx"));
        Path report = dir.resolve("verify-one.html");
        CliRun run = CliRun.of("verify", "--model", model.toString(), "--backends", "cpu-simd", "--json",
                "--report", report.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(1, run.json().get("values").asInt(), run.out());
        browser.check(report, run.json(), "verify-one-node", 1);
    }

    @Test
    void tuneReportDrawsTheCandidates() throws Exception {
        Path model = OnnxTestFiles.singleRelu(dir.resolve("relu.onnx"));
        Path report = dir.resolve("tune.html");
        String saved = System.getProperty(KilnCache.ROOT_PROPERTY);
        System.setProperty(KilnCache.ROOT_PROPERTY, dir.resolve("cache").toString());
        Selector.forgetRemembered();
        CliRun run;
        try {
            run = CliRun.of("--select-budget", "2s", "tune", "--model", model.toString(), "--batch", "1,2", "--json",
                    "--report", report.toString());
        } finally {
            if (saved == null) {
                System.clearProperty(KilnCache.ROOT_PROPERTY);
            } else {
                System.setProperty(KilnCache.ROOT_PROPERTY, saved);
            }
            Selector.forgetRemembered();
        }
        assertEquals(0, run.exitCode(), run.describe());
        browser.check(report, run.json(), "tune", 2);
        assertEquals(2, browser.count("tr.winner"), "a winner per batch size");
    }

    /**
     * A tune report whose mixed plan won: two test backends, each fast at one op (1 ms a node) and
     * slow at the other (20 ms), on four ReLUs then four sigmoids; alone each takes 84 ms a run, mixed
     * 8 ms. {@code kiln tune} measures every backend on the class path, and the real ones run this
     * chain faster than any sleep, so the report is written from the API's selection through the same
     * JSON that {@code tune --json} prints ({@link TuneCommand.Report}).
     */
    @Test
    void tuneReportDrawsTheMixedPlansPlacement() throws Exception {
        GraphBuilder b = new GraphBuilder("relus-then-sigmoids");
        b.input("x", Shape.of(1, 16, 8, 8));
        String v = "x";
        for (int i = 1; i <= 4; i++) {
            v = b.add("r" + i, new Activation(ActivationFunction.RELU), v);
        }
        for (int i = 1; i <= 4; i++) {
            v = b.add("s" + i, new Activation(ActivationFunction.SIGMOID), v);
        }
        b.output(v);
        EngineOptions options = EngineOptions.defaults().withThreads(1).withSelection(SelectionPolicy.MEASURED)
                .withSelectionBudget(Duration.ofSeconds(10)).withCacheRoot(dir.resolve("cache"));
        Engine engine = Engine.withBackends(List.of(new SleepingOpBackend("relus", 200, 1, 20),
                new SleepingOpBackend("sigmoids", 100, 20, 1)), KernelRegistry.discover(), options);
        Path report = dir.resolve("tune-mixed.html");
        Selector.forgetRemembered();
        try (Graph graph = b.build(); CompiledModel model = engine.compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertEquals(MixedPlan.ID, s.winner(), s.explanation());
            TuneCommand.Report tuned = new TuneCommand.Report(dir.resolve("cache").toString(), 0, 0, 0,
                    List.of(new TuneCommand.Tuned(graph.name(), 1, SelectionReport.of(s))));
            // As the command does: the page from the tree, --json from the same object as text.
            TunePage.write(Json.tree(tuned), Json.tree(Environment.probe(engine)), report);
            StringWriter printed = new StringWriter();
            Json.print(new PrintWriter(printed), tuned);
            JsonNode json = new ObjectMapper().readTree(printed.toString());
            JsonNode segments = json.at("/tuned/0/selection/mixed/segments");
            assertEquals(2, segments.size(), segments.toString());
            // The candidates' chart and the placement's.
            browser.check(report, json, "tune-mixed", 2);
            assertEquals(2, browser.count("table.placement tbody tr"), "a row per segment");
            String text = browser.text();
            for (JsonNode g : segments) {
                assertTrue(text.contains(g.get("first_name").asText()) && text.contains(g.get("last_name").asText()),
                        "each segment's first and last node are named: " + g);
            }
            assertEquals("relus", segments.get(0).get("backend").asText());
            assertEquals("sigmoids", segments.get(1).get("backend").asText());
        } finally {
            Selector.forgetRemembered();
            engine.close();
        }
    }

    @Test
    void compareReportMarksRegressions() throws Exception {
        Path model = OnnxTestFiles.singleRelu(dir.resolve("relu.onnx"));
        CliRun bench = CliRun.of("bench", "--model", model.toString(), "--backend", "reference", "--batch", "1,2",
                "--runs", "3", "--warmup-time", "0", "--json");
        assertEquals(0, bench.exitCode(), bench.describe());
        ObjectMapper json = new ObjectMapper();
        Path before = Files.writeString(dir.resolve("old.json"), bench.out());
        // The same run, batch 1 twice as slow and batch 2 gone, and a model only the new run has.
        ArrayNode changed = (ArrayNode) json.readTree(bench.out());
        ObjectNode slower = (ObjectNode) changed.get(0);
        slower.put("median_ms", slower.get("median_ms").asDouble() * 2);
        ObjectNode added = changed.get(1).deepCopy();
        added.put("model", "another");
        changed.remove(1);
        changed.add(added);
        Path after = Files.writeString(dir.resolve("new.json"), json.writeValueAsString(changed));
        Path report = dir.resolve("compare.html");
        CliRun run = CliRun.of("report", "--compare", before.toString(), after.toString(), "--output",
                report.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(1, run.json().get("regressions").asInt(), run.out());
        assertEquals(3, run.json().get("rows").size(), "one in both, one only old, one only new: " + run.out());
        browser.check(report, run.json(), "compare", 1);
        assertEquals(1, browser.count("tr.regression"));
    }
}
