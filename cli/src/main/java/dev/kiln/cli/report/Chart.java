package dev.kiln.cli.report;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Where a chart goes: an empty element that {@code report.js} fills with a uPlot drawing of the
 * embedded data. {@code kind} names the drawing; {@code items} says which entries of the data
 * it draws (indexes into the data's array, or its backends), so the drawing reads the same JSON
 * as the table beside it.
 */
final class Chart {
    private Chart() {
    }

    static String of(String kind, String label, List<Integer> items) {
        return "<div class=\"chart\" data-chart=\"" + kind + "\" data-items=\"["
                + items.stream().map(String::valueOf).collect(Collectors.joining(",")) + "]\" role=\"img\" aria-label=\""
                + Html.escape(label) + "\"></div>\n";
    }
}
