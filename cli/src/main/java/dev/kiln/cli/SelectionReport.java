package dev.kiln.cli;

import dev.kiln.selection.MixedPlan;
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
                       List<CandidateRow> candidates, Map<String, String> key, String explanation, MixedRow mixed) {

    /** One backend as selection saw it; {@code medianMs} null when it has no time. */
    record CandidateRow(String backend, int rank, String outcome, Double medianMs, int runs, String note) {
    }

    /**
     * The mixed plan ({@code status}: not planned, no gain, measured, cached): its base backend,
     * predicted ms against the best single backend's, and its partitions in node order.
     */
    record MixedRow(String status, String note, String base, Double predictedMs, String bestSingle,
                    Double bestSinglePredictedMs, List<SegmentRow> segments) {
    }

    /**
     * One partition of the mixed plan: its nodes (indexes in the optimized graph's order, and names),
     * their predicted ms, the bytes that enter it, what entering it was predicted to cost and what
     * the mixed plan's profiled runs measured (its uploads and the previous partition's downloads);
     * null where not known (a cache hit keeps the placement only).
     */
    record SegmentRow(String backend, int firstNode, int lastNode, String firstName, String lastName, int nodes,
                      Double nodeMs, long bytesIn, Double predictedTransferMs, Double measuredTransferMs) {
    }

    private static Double ms(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 1000) / 1000.0;
    }

    private static MixedRow mixedRow(MixedPlan m) {
        return new MixedRow(m.status().label(), m.note(), m.base(), ms(m.predictedMillis()), m.bestSingle(),
                ms(m.bestSinglePredictedMillis()), m.segments().stream().map(g -> new SegmentRow(g.backend(),
                g.firstNode(), g.lastNode(), g.firstName(), g.lastName(), g.nodes(), ms(g.nodeMillis()), g.bytesIn(),
                ms(g.predictedTransferMillis()), ms(g.measuredTransferMillis()))).toList());
    }

    static SelectionReport of(Selection s) {
        return new SelectionReport(s.policy() == null ? "explicit" : s.policy().label(), s.shapes(), s.winner(),
                s.cache().label(), Math.round(s.selectionMillis() * 10) / 10.0,
                s.candidates().stream().map(c -> new CandidateRow(c.backend(), c.rank(),
                        c.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                        c.timed() ? Math.round(c.medianMillis() * 1000) / 1000.0 : null, c.runs(), c.note())).toList(),
                new TreeMap<>(s.keyFields()), s.explanation(), mixedRow(s.mixed()));
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
            table.row("  " + c.backend(), c.backend().equals(MixedPlan.ID) ? "-" : Integer.toString(c.rank()),
                    c.outcome(),
                    c.medianMs() == null ? "-" : String.format(Locale.ROOT, "%.3f", c.medianMs()),
                    Integer.toString(c.runs()), c.note());
        }
        table.print(out);
        printMixed(out);
        if (!key.isEmpty()) {
            out.println("  cache key:");
            key.forEach((k, v) -> out.printf(Locale.ROOT, "    %-10s %s%n", k, v));
        }
    }

    /** The mixed plan's status and, when it was planned, its partitions with their costs. */
    private void printMixed(PrintWriter out) {
        out.printf(Locale.ROOT, "  mixed plan (%s): %s%n", mixed.status(), mixed.note());
        if (mixed.segments().size() < 2) {
            return;
        }
        Table table = new Table("  backend", "nodes", "from", "to", "node ms", "bytes in", "enter ms predicted",
                "enter ms measured");
        for (SegmentRow g : mixed.segments()) {
            table.row("  " + g.backend(), g.firstNode() + "-" + g.lastNode(), g.firstName(), g.lastName(),
                    number(g.nodeMs()), Long.toString(g.bytesIn()), number(g.predictedTransferMs()),
                    number(g.measuredTransferMs()));
        }
        table.print(out);
    }

    private static String number(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }

}
