package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.SelectionPolicy;
import dev.kiln.selection.Candidate;
import dev.kiln.selection.MixedPlan;
import dev.kiln.selection.Selection;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How explain and tune print a selection whose mixed plan won: which nodes run where, what the boundaries cost. */
class SelectionReportTest {

    private static Selection mixedWon() {
        MixedPlan plan = new MixedPlan(MixedPlan.Status.MEASURED, "2 partitions predict 9.00 ms against 20.00 ms"
                + " for onednn alone", "onednn", Map.of("fc", "cpu-simd"), List.of(
                new MixedPlan.Segment("onednn", 0, 40, "conv1", "avgpool", 8.0, 602_112, 0.25, 0.3),
                new MixedPlan.Segment("cpu-simd", 41, 41, "fc", "fc", 0.5, 8_192, 0.25, Double.NaN)),
                9.0, "onednn", 20.0);
        return new Selection(SelectionPolicy.MEASURED, "input[1, 3, 224, 224]", List.of(
                new Candidate("cpu-simd", 200, Candidate.Outcome.MEASURED, 30.0, 10, "settled"),
                new Candidate("onednn", 150, Candidate.Outcome.MEASURED, 20.0, 10, "settled"),
                new Candidate(MixedPlan.ID, 0, Candidate.Outcome.MEASURED, 10.0, 10, "settled")),
                Selection.CacheUse.MISS, Map.of("threads", "2"), MixedPlan.ID, 1234.5, "chose 'mixed'", plan);
    }

    @Test
    void jsonNamesEachPartitionOfTheMixedPlanWithItsCosts() throws Exception {
        StringWriter text = new StringWriter();
        Json.print(new PrintWriter(text, true), SelectionReport.of(mixedWon()));
        JsonNode json = new ObjectMapper().readTree(text.toString());
        assertEquals("mixed", json.get("winner").asText());
        JsonNode mixed = json.get("mixed");
        assertEquals("measured", mixed.get("status").asText(), mixed.toString());
        assertEquals("onednn", mixed.get("base").asText());
        assertEquals(9.0, mixed.get("predicted_ms").asDouble());
        JsonNode fc = mixed.get("segments").get(1);
        assertEquals("cpu-simd", fc.get("backend").asText());
        assertEquals(41, fc.get("first_node").asInt());
        assertEquals(1, fc.get("nodes").asInt());
        assertEquals(8192, fc.get("bytes_in").asLong());
        assertEquals(0.25, fc.get("predicted_transfer_ms").asDouble());
        assertTrue(fc.get("measured_transfer_ms").isNull(), "not measured: null, not NaN");
        assertEquals(0.3, mixed.get("segments").get(0).get("measured_transfer_ms").asDouble());
    }

    @Test
    void textShowsTheMixedPlansPartitions() {
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text, true);
        SelectionReport.of(mixedWon()).print(out);
        out.flush();
        String printed = text.toString();
        assertTrue(printed.contains("mixed plan (measured): 2 partitions predict 9.00 ms"), printed);
        assertTrue(printed.lines().anyMatch(l -> l.contains("cpu-simd") && l.contains("41-41") && l.contains("8192")
                && l.contains("0.250")), printed);
        assertTrue(printed.lines().anyMatch(l -> l.trim().startsWith("mixed") && l.contains(" - ")
                && l.contains("10.000")), "the mixed candidate has no rank: " + printed);
    }
}
