package dev.kiln.cli;

import dev.kiln.selection.Selection;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * How auto chose a plan's backend, as {@code explain} and {@code tune} print it and as JSON
 * ({@code selection}): the policy ({@code explicit} when a backend was named), each candidate with
 * its median or why it was not one, the tuning cache's part with the key's fields, the winner.
 */
record SelectionReport(String policy, String inputs, String winner, String cache, double selectionMs,
                       List<CandidateRow> candidates, Map<String, String> key, String explanation) {

    /** One backend as selection saw it; {@code medianMs} null when it has no time. */
    record CandidateRow(String backend, int rank, String outcome, Double medianMs, int runs, String note) {
    }

    static SelectionReport of(Selection s) {
        return new SelectionReport(s.policy() == null ? "explicit" : s.policy().label(), s.shapes(), s.winner(),
                s.cache().label(), Math.round(s.selectionMillis() * 10) / 10.0,
                s.candidates().stream().map(c -> new CandidateRow(c.backend(), c.rank(),
                        c.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                        c.timed() ? Math.round(c.medianMillis() * 1000) / 1000.0 : null, c.runs(), c.note())).toList(),
                new TreeMap<>(s.keyFields()), s.explanation());
    }

    void print(PrintWriter out) {
        out.printf(Locale.ROOT, "selection: %s%n", explanation);
        if (!candidates.isEmpty()) {
            printCandidates(out);
        }
    }

    /** The policy, the cache's part, a table of the candidates and the key's fields. */
    void printCandidates(PrintWriter out) {
        out.printf(Locale.ROOT, "  policy %s, tuning cache %s, %.0f ms to choose; winner %s%n", policy, cache,
                selectionMs, winner);
        Table table = new Table("  backend", "rank", "outcome", "median ms", "runs", "note");
        for (CandidateRow c : candidates) {
            table.row("  " + c.backend(), Integer.toString(c.rank()), c.outcome(),
                    c.medianMs() == null ? "-" : String.format(Locale.ROOT, "%.3f", c.medianMs()),
                    Integer.toString(c.runs()), c.note());
        }
        table.print(out);
        if (!key.isEmpty()) {
            out.println("  cache key:");
            key.forEach((k, v) -> out.printf(Locale.ROOT, "    %-10s %s%n", k, v));
        }
    }

}
