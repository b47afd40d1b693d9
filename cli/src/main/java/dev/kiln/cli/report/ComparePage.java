package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The report of {@code kiln report --compare}: two bench runs side by side, the change of the
 * median per model, backend and batch size as a chart and a table, regressions marked.
 */
public final class ComparePage {
    private ComparePage() {
    }

    /** @param comparison {@code kiln report --compare --json}'s object */
    public static void write(JsonNode comparison, Path file) {
        HtmlPage page = new HtmlPage("compare", "kiln report --compare", comparison);
        JsonNode rows = comparison.path("rows");
        List<Integer> all = new ArrayList<>();
        HtmlTable t = new HtmlTable(comparison, "data", "model", "backend", "batch", "old median ms",
                "new median ms", "change %", "verdict");
        for (int i = 0; i < rows.size(); i++) {
            all.add(i);
            JsonNode r = rows.get(i);
            String at = "/rows/" + i + "/";
            String verdict = r.path("verdict").asText();
            t.rowClass(verdict.replace(' ', '-')).text(r.path("model").asText()).text(r.path("backend").asText())
                    .number(at + "batch", NumberFormat.INTEGER).number(at + "old_median_ms", NumberFormat.MEASURE)
                    .number(at + "new_median_ms", NumberFormat.MEASURE)
                    .number(at + "change_pct", NumberFormat.ONE_DECIMAL).text(verdict).endRow();
        }
        page.section("Runs", "<p>old: " + Html.escape(comparison.path("old").asText()) + "<br>new: "
                + Html.escape(comparison.path("new").asText()) + "</p>\n<p><strong>"
                + comparison.path("regressions").asInt() + " regressions</strong>, "
                + comparison.path("improvements").asInt() + " improvements: a median more than "
                + Html.escape(comparison.path("threshold_pct").asText()) + "% slower or faster.</p>\n");
        boolean changes = rows.findValues("change_pct").stream().anyMatch(JsonNode::isNumber);
        page.section("Change of the median", (!changes ? "" : Chart.of("change",
                "change of the median per model and backend", all)) + t.html());
        page.write(file);
    }
}
