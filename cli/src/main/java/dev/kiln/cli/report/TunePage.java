package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;

/**
 * The report of {@code kiln tune}: per model and batch size the candidates with their medians
 * (or why they were not candidates), the winner, and the mixed plan: its status and, where it was
 * planned, its placement along the network (which backend runs which run of nodes, and what each
 * boundary costs), drawn as a strip coloured by backend and given as a table. Drawn from tune's
 * {@code --json} as it is ({@code selection.mixed}, as {@code kiln explain --json} has it).
 */
public final class TunePage {
    private TunePage() {
    }

    /** @param report {@code kiln tune --json}'s object */
    public static void write(JsonNode report, JsonNode environment, Path file) {
        HtmlPage page = new HtmlPage("tune", "kiln tune", report);
        page.environment(environment);
        JsonNode tuned = report.path("tuned");
        HtmlTable summary = new HtmlTable(report, "data", "model", "batch", "winner", "policy", "tuning cache",
                "ms to choose", "why");
        for (int i = 0; i < tuned.size(); i++) {
            String at = "/tuned/" + i + "/";
            JsonNode s = tuned.get(i).path("selection");
            summary.text(tuned.get(i).path("model").asText()).number(at + "batch", NumberFormat.INTEGER)
                    .text(s.path("winner").asText()).text(s.path("policy").asText()).text(s.path("cache").asText())
                    .number(at + "selection/selection_ms", NumberFormat.MEASURE).text(s.path("explanation").asText())
                    .endRow();
        }
        page.section("Winners", "<p>tuning cache: " + Html.escape(report.path("cache").asText()) + "</p>\n"
                + summary.html());
        for (int i = 0; i < tuned.size(); i++) {
            JsonNode t = tuned.get(i);
            page.section(t.path("model").asText() + ", batch " + t.path("batch").asInt(), candidates(report, i));
        }
        page.write(file);
    }

    private static String candidates(JsonNode report, int item) {
        JsonNode s = report.path("tuned").get(item).path("selection");
        HtmlTable t = new HtmlTable(report, "data", "backend", "rank", "outcome", "median ms", "runs", "note");
        JsonNode rows = s.path("candidates");
        for (int c = 0; c < rows.size(); c++) {
            String at = "/tuned/" + item + "/selection/candidates/" + c + "/";
            JsonNode row = rows.get(c);
            t.rowClass(row.path("backend").asText().equals(s.path("winner").asText()) ? "winner" : "")
                    .text(row.path("backend").asText()).number(at + "rank", NumberFormat.INTEGER)
                    .text(row.path("outcome").asText()).number(at + "median_ms", NumberFormat.MEASURE)
                    .number(at + "runs", NumberFormat.INTEGER).text(row.path("note").asText()).endRow();
        }
        return "<p>winner: <strong>" + Html.escape(s.path("winner").asText()) + "</strong></p>\n"
                + (rows.isEmpty() ? "" : Chart.of("candidates", "median time of each candidate", List.of(item)))
                + t.html() + mixed(report, item);
    }

    /** The mixed plan: its status, and where it was planned its segments along the network. */
    private static String mixed(JsonNode report, int item) {
        JsonNode m = report.path("tuned").get(item).path("selection").path("mixed");
        if (m.isMissingNode()) {
            return "";
        }
        StringBuilder html = new StringBuilder("<h3>Mixed plan</h3>\n<p>")
                .append(Html.escape(m.path("status").asText())).append(": ").append(Html.escape(m.path("note").asText()))
                .append("</p>\n");
        JsonNode segments = m.path("segments");
        if (segments.size() < 2) { // one segment is a single backend, which the candidates already show
            return html.toString();
        }
        String at = "/tuned/" + item + "/selection/mixed/";
        HtmlTable summary = new HtmlTable(report, "data", "", "");
        summary.text("base backend (runs every node not placed elsewhere)").text(m.path("base").asText()).endRow()
                .text("predicted ms per run, mixed").number(at + "predicted_ms", NumberFormat.MEASURE).endRow()
                .text("predicted ms per run, best single backend (" + m.path("best_single").asText() + ")")
                .number(at + "best_single_predicted_ms", NumberFormat.MEASURE).endRow();
        HtmlTable t = new HtmlTable(report, "data placement", "backend", "first node", "last node",
                "from", "to", "nodes", "node ms (predicted)", "bytes in", "entering ms (predicted)",
                "entering ms (measured)");
        for (int g = 0; g < segments.size(); g++) {
            String sat = at + "segments/" + g + "/";
            JsonNode seg = segments.get(g);
            t.text(seg.path("backend").asText())
                    .number(sat + "first_node", NumberFormat.INTEGER).number(sat + "last_node", NumberFormat.INTEGER)
                    .text(seg.path("first_name").asText()).text(seg.path("last_name").asText())
                    .number(sat + "nodes", NumberFormat.INTEGER).number(sat + "node_ms", NumberFormat.MEASURE)
                    .number(sat + "bytes_in", NumberFormat.INTEGER)
                    .number(sat + "predicted_transfer_ms", NumberFormat.MEASURE)
                    .number(sat + "measured_transfer_ms", NumberFormat.MEASURE).endRow();
        }
        return html.append(summary.html())
                .append("<p class=\"note\">Where each node runs, in the optimized graph's node order: a run of nodes on one"
                        + " backend is a segment; entering one costs the downloads from the segment before, the uploads"
                        + " to it and one more partition (predicted from the candidates' profiles, measured on the"
                        + " mixed plan's own profiled runs).</p>\n")
                .append(Chart.of("placement", "the mixed plan's placement along the network", List.of(item)))
                .append(t.html()).toString();
    }
}
