package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain HTML table of a report, readable without JavaScript. A number cell shows a value of the
 * embedded JSON and names it ({@code data-json}, a JSON pointer), so that every number on the page
 * can be traced to, and checked against, the {@code --json} output it came from.
 */
final class HtmlTable {
    private static final java.util.Set<String> NON_FINITE = java.util.Set.of("NaN", "Infinity", "-Infinity");
    private final JsonNode root;
    private final String cssClass;
    private final List<String> headers;
    private final StringBuilder rows = new StringBuilder();
    private List<String> cells = new ArrayList<>();
    private String rowClass = "";

    /** A table over {@code root}, the JSON that its number cells point into. */
    HtmlTable(JsonNode root, String cssClass, String... headers) {
        this.root = root;
        this.cssClass = cssClass;
        this.headers = List.of(headers);
    }

    /** Text, escaped. */
    HtmlTable text(String text) {
        cells.add("<td>" + Html.escape(text) + "</td>");
        return this;
    }

    /** Text at a JSON pointer, or an empty cell where it is absent or null. */
    HtmlTable text(String pointer, String absent) {
        JsonNode v = root.at(pointer);
        return text(v.isMissingNode() || v.isNull() ? absent : v.asText());
    }

    /** Markup already escaped by the caller. */
    HtmlTable markup(String html) {
        cells.add("<td>" + html + "</td>");
        return this;
    }

    /**
     * The number at a JSON pointer of the root, formatted; "-" where it is absent or null. Fails
     * when the pointer names something that is not a number, which would be a bug in the page.
     */
    HtmlTable number(String pointer, NumberFormat format) {
        return number(pointer, format, "");
    }

    /** As {@link #number(String, NumberFormat)}, with a class for the cell (a mark, a shade). */
    HtmlTable number(String pointer, NumberFormat format, String cellClass) {
        JsonNode v = root.at(pointer);
        String classes = ("num " + cellClass).trim();
        if (v.isMissingNode() || v.isNull()) {
            cells.add("<td class=\"" + classes + "\">-</td>");
            return this;
        }
        // JSON has no NaN or infinity: Jackson writes them as strings, which are shown as they are.
        if (v.isTextual() && NON_FINITE.contains(v.asText()) || v.isNumber() && !Double.isFinite(v.asDouble())) {
            cells.add("<td class=\"" + classes + "\">" + Html.escape(v.asText()) + "</td>");
            return this;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("not a number at " + pointer + ": " + v);
        }
        cells.add("<td class=\"" + classes + "\" data-json=\"" + Html.escape(pointer) + "\">"
                + format.format(v.asDouble()) + "</td>");
        return this;
    }

    /** The next row gets this class (its cells are added next). */
    HtmlTable rowClass(String css) {
        rowClass = css;
        return this;
    }

    /** Ends the row whose cells were just added. */
    HtmlTable endRow() {
        if (cells.size() != headers.size()) {
            throw new IllegalStateException("a row of " + cells.size() + " cells in a table of " + headers.size()
                    + " columns: " + headers);
        }
        rows.append(rowClass.isEmpty() ? "<tr>" : "<tr class=\"" + rowClass + "\">");
        cells.forEach(rows::append);
        rows.append("</tr>\n");
        cells = new ArrayList<>();
        rowClass = "";
        return this;
    }

    /** The table; without a header row when every header is empty (a list of names and values). */
    String html() {
        StringBuilder out = new StringBuilder("<table class=\"" + cssClass + "\">\n");
        if (headers.stream().anyMatch(h -> !h.isEmpty())) {
            out.append("<thead><tr>");
            for (String h : headers) {
                out.append("<th>").append(Html.escape(h)).append("</th>");
            }
            out.append("</tr></thead>\n");
        }
        return out.append("<tbody>\n").append(rows).append("</tbody></table>\n").toString();
    }
}
