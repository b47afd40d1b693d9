package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;

/**
 * The report of {@code kiln tune}: per model and batch size the candidates with their medians
 * (or why they were not candidates) and the winner. Drawn from tune's {@code --json} as it is;
 * a mixed plan's placement along the network, once selection has one, is not drawn yet.
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
                + t.html();
    }
}
