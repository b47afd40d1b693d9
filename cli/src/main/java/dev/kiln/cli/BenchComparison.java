package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two saved {@code kiln bench --json} runs side by side: per model, backend and batch size the
 * median of each and the change. A change slower than the threshold is a regression, faster by
 * as much an improvement; a row present in one run only says which. The JSON keys are a contract
 * ({@code kiln report --compare --json}): {@code old}, {@code new}, {@code threshold_pct},
 * {@code regressions}, {@code improvements}, {@code rows}.
 *
 * @param thresholdPct how much slower (in percent of the old median) counts as a regression
 */
record BenchComparison(String old, @JsonProperty("new") String now, double thresholdPct, int regressions, int improvements,
                       List<Row> rows) {

    static final String REGRESSION = "regression";
    static final String IMPROVEMENT = "improvement";

    /**
     * @param changePct the new median over the old one, minus 1, in percent; null when only one run has the row
     * @param verdict   {@code regression}, {@code improvement}, {@code unchanged}, {@code only old} or {@code only new}
     */
    record Row(String model, String backend, int batch, Double oldMedianMs, Double newMedianMs, Double changePct,
               String verdict) {
    }

    static BenchComparison of(Path oldFile, Path newFile, double thresholdPct) {
        Map<String, JsonNode> before = byKey(oldFile);
        Map<String, JsonNode> after = byKey(newFile);
        List<Row> rows = new ArrayList<>();
        int regressions = 0;
        int improvements = 0;
        for (Map.Entry<String, JsonNode> e : before.entrySet()) {
            JsonNode o = e.getValue();
            JsonNode n = after.get(e.getKey());
            double oldMs = o.get("median_ms").asDouble();
            if (n == null) {
                rows.add(new Row(o.get("model").asText(), o.get("backend").asText(), o.get("batch").asInt(), oldMs,
                        null, null, "only old"));
                continue;
            }
            double newMs = n.get("median_ms").asDouble();
            double change = Math.round((newMs / oldMs - 1) * 10000) / 100.0;
            String verdict = change > thresholdPct ? REGRESSION : change < -thresholdPct ? IMPROVEMENT : "unchanged";
            regressions += verdict.equals(REGRESSION) ? 1 : 0;
            improvements += verdict.equals(IMPROVEMENT) ? 1 : 0;
            rows.add(new Row(o.get("model").asText(), o.get("backend").asText(), o.get("batch").asInt(), oldMs, newMs,
                    change, verdict));
        }
        for (Map.Entry<String, JsonNode> e : after.entrySet()) {
            if (!before.containsKey(e.getKey())) {
                JsonNode n = e.getValue();
                rows.add(new Row(n.get("model").asText(), n.get("backend").asText(), n.get("batch").asInt(), null,
                        n.get("median_ms").asDouble(), null, "only new"));
            }
        }
        return new BenchComparison(oldFile.toString(), newFile.toString(), thresholdPct, regressions, improvements,
                rows);
    }

    /** A bench run's results by model, backend and batch size; a file that is not one is refused, named. */
    private static Map<String, JsonNode> byKey(Path file) {
        JsonNode results;
        try {
            results = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new KilnException("cannot read " + file + " as JSON: " + e.getMessage(), e);
        }
        if (results == null || !results.isArray()) {
            throw new KilnException(file + " is not the output of 'kiln bench --json': expected an array of results");
        }
        Map<String, JsonNode> byKey = new LinkedHashMap<>();
        for (int i = 0; i < results.size(); i++) {
            JsonNode r = results.get(i);
            for (String field : List.of("model", "backend", "batch", "median_ms")) {
                if (!r.hasNonNull(field) || (field.equals("median_ms") || field.equals("batch")) != r.get(field)
                        .isNumber()) {
                    throw new KilnException(file + ", result " + i + ": no valid '" + field + "'; is it the output of"
                            + " 'kiln bench --json'?");
                }
            }
            String key = r.get("model").asText() + "\u0000" + r.get("backend").asText() + "\u0000"
                    + r.get("batch").asInt();
            if (byKey.putIfAbsent(key, r) != null) {
                throw new KilnException(file + ", result " + i + ": " + r.get("model").asText() + " on "
                        + r.get("backend").asText() + " at batch " + r.get("batch").asInt() + " appears twice");
            }
        }
        return byKey;
    }
}
