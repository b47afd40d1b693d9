package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The report of {@code kiln bench}: the environment, every result in one table, per model the
 * latency distribution of every timed run per batch size (and images/s against batch size when
 * several were run), and each result's profile when {@code --profile} was given: every entry's time,
 * each node's GFLOP/s against the machine's peak (a chart with the peak as a line), and the time and
 * GFLOP/s per class of layer.
 */
public final class BenchPage {
    /** The profile table's rows; the chart draws every entry. */
    static final int PROFILE_ROWS = 20;

    private BenchPage() {
    }

    /**
     * @param results     {@code kiln bench --json}'s array
     * @param problems    what the run warned about (failed or dropped backends), in the order printed
     * @param environment the machine and software, as a tree
     */
    public static void write(JsonNode results, List<String> problems, JsonNode environment, Path file) {
        HtmlPage page = new HtmlPage("bench", "kiln bench", results);
        page.environment(environment).problems(problems);
        page.section("Results", summary(results));
        Map<String, List<Integer>> byModel = new LinkedHashMap<>();
        for (int i = 0; i < results.size(); i++) {
            byModel.computeIfAbsent(results.get(i).path("model").asText(), m -> new ArrayList<>()).add(i);
        }
        byModel.forEach((model, items) -> page.section(model, modelSection(results, model, items)));
        for (int i = 0; i < results.size(); i++) {
            JsonNode r = results.get(i);
            if (r.has("profile")) {
                page.section("Profile: " + r.path("model").asText() + " on " + label(r) + ", batch "
                        + r.path("batch").asInt(), profile(results, i));
            }
        }
        page.write(file);
    }

    /** A result's backend as people read it: {@code auto -> onednn} when auto chose. */
    static String label(JsonNode r) {
        String asked = r.path("backend").asText();
        String ran = r.path("selected_backend").asText(asked);
        return asked.equals(ran) ? asked : asked + " -> " + ran;
    }

    private static String summary(JsonNode results) {
        HtmlTable t = new HtmlTable(results, "data", "model", "backend", "device", "batch", "runs", "p50 (median) ms",
                "p90 ms", "p99 ms", "min ms", "max ms", "images/s", "max rel err", "compile ms", "fallback nodes");
        for (int i = 0; i < results.size(); i++) {
            String at = "/" + i + "/";
            JsonNode r = results.get(i);
            t.text(r.path("model").asText()).text(label(r)).text(r.path("device").asText())
                    .number(at + "batch", NumberFormat.INTEGER).number(at + "runs", NumberFormat.INTEGER)
                    .number(at + "median_ms", NumberFormat.MEASURE).number(at + "p90_ms", NumberFormat.MEASURE)
                    .number(at + "p99_ms", NumberFormat.MEASURE).number(at + "min_ms", NumberFormat.MEASURE)
                    .number(at + "max_ms", NumberFormat.MEASURE).number(at + "images_per_s", NumberFormat.MEASURE)
                    .number(at + "max_rel_error", NumberFormat.SCIENTIFIC)
                    .number(at + "compile_ms", NumberFormat.MEASURE)
                    .number(at + "fallback_nodes", NumberFormat.INTEGER,
                            r.path("fallback_nodes").asInt() > 0 ? "fallback" : "")
                    .endRow();
        }
        return t.html();
    }

    private static String modelSection(JsonNode results, String model, List<Integer> items) {
        StringBuilder html = new StringBuilder();
        Set<Integer> batches = new LinkedHashSet<>();
        items.forEach(i -> batches.add(results.get(i).path("batch").asInt()));
        for (int batch : batches) {
            List<Integer> ofBatch = items.stream().filter(i -> results.get(i).path("batch").asInt() == batch).toList();
            html.append("<h3>Latency of every timed run, batch ").append(batch).append("</h3>\n")
                    .append("<p class=\"note\">Each run's time against the share of runs at most that slow"
                            + " (a percentile plot: the median at 50, the slowest at 100).</p>\n")
                    .append(Chart.of("latency", model + ": latency distribution at batch " + batch, ofBatch))
                    .append(runsTable(results, ofBatch));
        }
        if (batches.size() > 1) {
            html.append("<h3>Throughput against batch size</h3>\n")
                    .append(Chart.of("throughput", model + ": images per second against batch size", items))
                    .append(throughputTable(results, items, batches));
        }
        return html.toString();
    }

    /** Every timed run in milliseconds: a row per run, a column per backend. */
    private static String runsTable(JsonNode results, List<Integer> items) {
        List<String> headers = new ArrayList<>(List.of("run"));
        items.forEach(i -> headers.add(label(results.get(i)) + " ms"));
        HtmlTable t = new HtmlTable(results, "data runs", headers.toArray(String[]::new));
        int most = items.stream().mapToInt(i -> results.get(i).path("run_ms").size()).max().orElse(0);
        for (int run = 0; run < most; run++) {
            t.text(Integer.toString(run + 1));
            for (int i : items) {
                t.number("/" + i + "/run_ms/" + run, NumberFormat.MEASURE);
            }
            t.endRow();
        }
        return "<details><summary>every run (" + most + " at most per backend)</summary>\n" + t.html()
                + "</details>\n";
    }

    /** Images/s: a row per backend, a column per batch size. */
    private static String throughputTable(JsonNode results, List<Integer> items, Set<Integer> batches) {
        List<String> headers = new ArrayList<>(List.of("backend"));
        batches.forEach(b -> headers.add("batch " + b + " images/s"));
        HtmlTable t = new HtmlTable(results, "data", headers.toArray(String[]::new));
        Map<String, Map<Integer, Integer>> byBackend = new LinkedHashMap<>();
        for (int i : items) {
            byBackend.computeIfAbsent(results.get(i).path("backend").asText(), b -> new LinkedHashMap<>())
                    .put(results.get(i).path("batch").asInt(), i);
        }
        byBackend.forEach((backend, byBatch) -> {
            t.text(backend);
            for (int b : batches) {
                Integer i = byBatch.get(b);
                t.number(i == null ? "/missing" : "/" + i + "/images_per_s", NumberFormat.MEASURE);
            }
            t.endRow();
        });
        return t.html();
    }

    /** The chart of every entry in execution order, and the slowest entries as a table. */
    private static String profile(JsonNode results, int item) {
        JsonNode entries = results.get(item).path("profile");
        List<Integer> order = new ArrayList<>();
        for (int e = 0; e < entries.size(); e++) {
            order.add(e);
        }
        order.sort(Comparator.comparingDouble((Integer e) -> entries.get(e).path("median_micros").asDouble())
                .reversed());
        HtmlTable t = new HtmlTable(results, "data", "node", "op", "backend", "algorithm", "median us",
                "share %", "MACs", "GFLOP/s", "% of peak");
        for (int e : order.subList(0, Math.min(PROFILE_ROWS, order.size()))) {
            String at = "/" + item + "/profile/" + e + "/";
            JsonNode entry = entries.get(e);
            boolean node = entry.path("kind").asText().equals("NODE");
            t.text(entry.path("name").asText()).text(entry.path("op").asText()).text(entry.path("backend").asText())
                    .text(entry.path("algorithm").asText())
                    .number(at + "median_micros", NumberFormat.MEASURE).number(at + "share_pct", NumberFormat.ONE_DECIMAL);
            if (node && entry.path("macs").asLong() > 0) {
                t.number(at + "macs", NumberFormat.INTEGER).number(at + "gflop_per_s", NumberFormat.MEASURE)
                        .number(at + "pct_of_peak", NumberFormat.ONE_DECIMAL);
            } else {
                t.text("-").text("-").text("-");
            }
            t.endRow();
        }
        boolean anyMacs = false;
        for (JsonNode entry : entries) {
            anyMacs |= entry.path("macs").asLong() > 0;
        }
        return "<p class=\"note\">Every node (or partition, where a backend cannot time its nodes, and the copies"
                + " between host and backend) in execution order, by its median time over the timed runs.</p>\n"
                + Chart.of("profile", "where the time goes per node", List.of(item))
                + peak(results, item)
                + (anyMacs ? "<h3>GFLOP/s per node against the peak</h3>\n"
                + Chart.of("gflops", "GFLOP/s of each node with multiply-accumulates, the machine's peak as a line",
                List.of(item)) : "")
                + classes(results, item)
                + "<h3>The " + Math.min(PROFILE_ROWS, order.size()) + " slowest of " + entries.size()
                + " entries</h3>\n" + t.html();
    }

    /** What the GFLOP/s are read against: the measured peak, or why there is none. */
    private static String peak(JsonNode results, int item) {
        JsonNode r = results.get(item);
        String figure = r.has("peak_gflop_per_s")
                ? "<strong><span data-json=\"/" + item + "/peak_gflop_per_s\">"
                + NumberFormat.MEASURE.format(r.path("peak_gflop_per_s").asDouble()) + "</span> GFLOP/s</strong>: "
                : "";
        return "<p class=\"peak\">machine peak: " + figure + Html.escape(r.path("peak").asText("not given"))
                + "</p>\n<p class=\"note\">The peak is the FP32 FMA throughput this JVM reaches on the engine's"
                + " threads (Vector API FMA chains at its preferred width, measured at start). Dense 1x1 and 3x3"
                + " convolutions can come near it; depthwise convolutions and fully connected layers at batch 1 wait"
                + " on memory and reach a few percent. A node's GFLOP/s count its direct form's multiply-adds, so"
                + " an algorithm that does fewer (Winograd) can show more than the peak, as can any node when the"
                + " peak was measured on a busy host.</p>\n";
    }

    /** The profile by class of layer: time, share, GFLOP/s and share of the peak. */
    private static String classes(JsonNode results, int item) {
        JsonNode classes = results.get(item).path("profile_classes");
        HtmlTable t = new HtmlTable(results, "data", "class of layer", "nodes", "median us (sum)", "share %",
                "GFLOP/s", "% of peak");
        for (int c = 0; c < classes.size(); c++) {
            String at = "/" + item + "/profile_classes/" + c + "/";
            JsonNode row = classes.get(c);
            t.text(row.path("op_class").asText()).number(at + "nodes", NumberFormat.INTEGER)
                    .number(at + "median_micros", NumberFormat.MEASURE).number(at + "share_pct", NumberFormat.ONE_DECIMAL);
            if (row.path("macs").asLong() > 0) {
                t.number(at + "gflop_per_s", NumberFormat.MEASURE).number(at + "pct_of_peak", NumberFormat.ONE_DECIMAL);
            } else {
                t.text("-").text("-");
            }
            t.endRow();
        }
        return "<h3>By class of layer</h3>\n" + t.html();
    }
}
