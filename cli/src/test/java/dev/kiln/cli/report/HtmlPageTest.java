package dev.kiln.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a page does with text it did not write: names from a model file reach it as data and stay data. */
class HtmlPageTest {
    private static final String HOSTILE = "</script><script>alert(1)</script><!--";

    @Test
    void namesFromAModelFileCannotEndTheDataOrAddMarkup() throws Exception {
        JsonNode data = new ObjectMapper().readTree("[{\"model\": \"" + HOSTILE.replace("\"", "\\\"")
                + "\", \"median_ms\": 1.5}]");
        HtmlTable table = new HtmlTable(data, "data", "model", "median ms");
        table.text("/0/model", "-").number("/0/median_ms", NumberFormat.MEASURE).endRow();
        String html = new HtmlPage("bench", HOSTILE, data).section(HOSTILE, table.html()).html();

        assertFalse(html.contains("<script>alert"), "no script element from the data");
        assertTrue(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)"), "shown as text in the table and headings");
        Matcher embedded = Pattern.compile("<script type=\"application/json\" id=\"kiln-data\">(.*?)</script>",
                Pattern.DOTALL).matcher(html);
        assertTrue(embedded.find());
        assertEquals(data, new ObjectMapper().readTree(embedded.group(1)), "the embedded data reads back the same");
        assertTrue(html.contains("data-json=\"/0/median_ms\">1.50</td>"), html);
    }

    @Test
    void aTableNumberThatIsNoNumberIsABugInThePage() throws Exception {
        JsonNode data = new ObjectMapper().readTree("{\"model\": \"m\"}");
        HtmlTable table = new HtmlTable(data, "data", "model");
        assertThrows(IllegalArgumentException.class, () -> table.number("/model", NumberFormat.MEASURE));
        assertThrows(IllegalStateException.class, () -> new HtmlTable(data, "data", "a", "b").text("x").endRow(),
                "a row with too few cells");
        JsonNode nan = new ObjectMapper().readTree("{\"e\": \"NaN\"}");
        String shown = new HtmlTable(nan, "data", "e").number("/e", NumberFormat.SCIENTIFIC).endRow().html();
        assertTrue(shown.contains("<td class=\"num\">NaN</td>"), "NaN, as Jackson writes it, shown as such: " + shown);
    }

    @Test
    void numbersShowTheirPrecisionInTheirText() {
        assertEquals("123.5", NumberFormat.MEASURE.format(123.45));
        assertEquals("12.35", NumberFormat.MEASURE.format(12.345));
        assertEquals("5.04e-07", NumberFormat.SCIENTIFIC.format(5.041e-7));
        assertEquals("42", NumberFormat.INTEGER.format(42));
        assertEquals("-25.0", NumberFormat.ONE_DECIMAL.format(-25));
    }
}
