package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The report of {@code kiln verify}: per backend its verdict, the relative error of every value
 * along the network against its tolerance (one line per backend, the tolerance as a band; the
 * first divergent node marked and fallback nodes shaded), and the reduced repro's command.
 */
public final class VerifyPage {
    private VerifyPage() {
    }

    /** @param report {@code kiln verify --json}'s object */
    public static void write(JsonNode report, JsonNode environment, Path file) {
        HtmlPage page = new HtmlPage("verify", "kiln verify: " + report.path("model").asText(), report);
        page.environment(environment);
        page.section("Verdict", "<p>" + Html.escape(report.path("model").asText()) + ": "
                + report.path("nodes").asInt() + " nodes after optimization, " + report.path("values").asInt()
                + " values compared with the reference backend per backend: <strong>"
                + (report.path("passed").asBoolean() ? "PASS" : "FAIL") + "</strong></p>\n" + summary(report));
        JsonNode backends = report.path("backends");
        List<Integer> all = new ArrayList<>();
        boolean compared = false;
        for (int b = 0; b < backends.size(); b++) {
            all.add(b);
            compared |= !backends.get(b).path("values").isEmpty();
        }
        // A backend that failed before computing anything has no values: there is no line to draw.
        page.section("Relative error along the network", compared ? "<p class=\"note\">Each value's largest error"
                + " relative to its scale (the largest reference magnitude), in execution order, on a log scale; the"
                + " band under the dashed line is the tolerance. A vertical line marks a backend's first divergent"
                + " node; shaded columns are nodes that fell back to another backend. An exact value (error 0) is not"
                + " drawn.</p>\n" + Chart.of("errors", "relative error of every value along the network", all)
                + "<details><summary>every value</summary>\n" + valuesTable(report) + "</details>\n"
                : "<p>No backend computed any value to compare.</p>\n");
        StringBuilder repro = new StringBuilder();
        for (JsonNode b : backends) {
            JsonNode reduced = b.path("reduced");
            if (reduced.isObject()) {
                repro.append("<h3>").append(Html.escape(b.path("backend").asText())).append("</h3>\n<p>")
                        .append(Html.escape(reduced.path("description").asText())).append(reduced.path("still_fails")
                                .asBoolean() ? "; still fails on its own" : "").append("</p>\n<pre class=\"command\">")
                        .append(Html.escape(reduced.path("command").asText())).append("</pre>\n");
            }
        }
        if (!repro.isEmpty()) {
            page.section("Reduced repro", repro.toString());
        }
        page.write(file);
    }

    private static String summary(JsonNode report) {
        JsonNode backends = report.path("backends");
        HtmlTable t = new HtmlTable(report, "data", "backend", "verdict", "max rel err", "worst node",
                "tolerance there", "first divergent node", "its rel err", "its tolerance", "nodes on it",
                "fallback nodes", "not verifiable", "problems");
        for (int b = 0; b < backends.size(); b++) {
            JsonNode v = backends.get(b);
            String at = "/backends/" + b + "/";
            boolean passed = v.path("passed").asBoolean();
            t.rowClass(passed ? "" : "failed").text(v.path("backend").asText()).text(passed ? "PASS" : "FAIL")
                    .number(at + "max_rel_error", NumberFormat.SCIENTIFIC)
                    .text(at + "worst_node/name", "-").number(at + "worst_node/tolerance", NumberFormat.SCIENTIFIC)
                    .text(at + "first_divergent_node/name", "-")
                    .number(at + "first_divergent_node/rel_error", NumberFormat.SCIENTIFIC)
                    .number(at + "first_divergent_node/tolerance", NumberFormat.SCIENTIFIC)
                    .number(at + "nodes_on_backend", NumberFormat.INTEGER)
                    .text(String.join(", ", texts(v.path("fallback_nodes"))))
                    .text(String.join(", ", texts(v.path("not_verifiable"))))
                    .text(String.join("; ", texts(v.path("problems")))).endRow();
        }
        return t.html();
    }

    /** A row per value (in the order of the backend that compared the most), two columns per backend. */
    private static String valuesTable(JsonNode report) {
        JsonNode backends = report.path("backends");
        int longest = 0;
        for (int b = 1; b < backends.size(); b++) {
            if (backends.get(b).path("values").size() > backends.get(longest).path("values").size()) {
                longest = b;
            }
        }
        List<String> headers = new ArrayList<>(List.of("#", "node", "op"));
        for (JsonNode b : backends) {
            headers.add(b.path("backend").asText() + " rel err");
            headers.add(b.path("backend").asText() + " tolerance");
        }
        HtmlTable t = new HtmlTable(report, "data values", headers.toArray(String[]::new));
        JsonNode rows = backends.path(longest).path("values");
        for (int i = 0; i < rows.size(); i++) {
            String node = rows.get(i).path("node").asText();
            t.text(Integer.toString(i + 1)).text(node).text(rows.get(i).path("op").asText());
            for (int b = 0; b < backends.size(); b++) {
                JsonNode values = backends.get(b).path("values");
                int at = indexOf(values, rows.get(i).path("value").asText(), i);
                if (at < 0) {
                    t.text("-").text("-");
                    continue;
                }
                JsonNode v = values.get(at);
                boolean first = node.equals(backends.get(b).path("first_divergent_node").path("name").asText(null));
                String css = (v.path("passed").asBoolean() ? "" : "out") + (v.path("fallback").asBoolean()
                        ? " fallback" : "") + (first ? " first-divergent" : "");
                String ptr = "/backends/" + b + "/values/" + at + "/";
                t.number(ptr + "rel_error", NumberFormat.SCIENTIFIC, css.trim())
                        .number(ptr + "tolerance", NumberFormat.SCIENTIFIC);
            }
            t.endRow();
        }
        return t.html();
    }

    /** Where a value is in a backend's list: usually at the same position, else searched. */
    private static int indexOf(JsonNode values, String value, int likely) {
        if (likely < values.size() && values.get(likely).path("value").asText().equals(value)) {
            return likely;
        }
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i).path("value").asText().equals(value)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
