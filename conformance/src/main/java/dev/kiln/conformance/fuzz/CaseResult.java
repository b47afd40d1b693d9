package dev.kiln.conformance.fuzz;

import java.util.List;

/**
 * What one check of one generated graph found.
 *
 * @param target   what was checked: a backend's id, or {@link CaseChecker#OPTIMIZER}
 * @param verdict  how it ended
 * @param op       where it failed: the op type of the first node out of tolerance (null when none is named)
 * @param message  what went wrong, for people (empty when it passed)
 * @param ops      the ONNX op types of the graph
 * @param forms    the forms the target ran: the optimized graph's op types with their fused epilogues
 *                 (e.g. {@code FusedConv(Relu)}, {@code Conv/depthwise}), those that fell back excluded
 * @param nodes    the graph's ONNX node count
 */
public record CaseResult(String target, Verdict verdict, String op, String message, List<String> ops,
                         List<String> forms, int nodes) {

    /** How a check ended. */
    public enum Verdict {
        /** Within tolerance everywhere. */
        PASSED,
        /** A value out of tolerance. */
        DIVERGED,
        /** The backend or the optimizer threw on a valid graph, or the importer refused it. */
        FAILED,
        /** The process running the backend died (a native crash). */
        CRASHED;

        public boolean isFinding() {
            return this != PASSED;
        }
    }

    public CaseResult {
        ops = List.copyOf(ops);
        forms = List.copyOf(forms);
        message = message == null ? "" : message;
    }

    /** The result as one line of tab-separated fields (how a worker JVM answers), which {@link #parse} reads. */
    public String toLine() {
        return String.join("\t", target, verdict.name(), op == null ? "" : op, clean(message), String.join(",", ops),
                String.join(",", forms), Integer.toString(nodes));
    }

    /** Reads {@link #toLine()}'s text. */
    public static CaseResult parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("not a fuzz case result (7 tab-separated fields): '" + line + "'");
        }
        return new CaseResult(f[0], Verdict.valueOf(f[1]), f[2].isEmpty() ? null : f[2], f[3], split(f[4]),
                split(f[5]), Integer.parseInt(f[6]));
    }

    private static List<String> split(String s) {
        return s.isEmpty() ? List.of() : List.of(s.split(","));
    }

    private static String clean(String s) {
        return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }

    /**
     * The same failure: same verdict at the same op kind (what the shrinker keeps while it
     * shrinks). The kind leaves out the epilogue, so that {@code FusedConv/depthwise(relu)} may
     * shrink to {@code Conv/depthwise} once the Relu is gone and the fault still shows.
     */
    public boolean sameFailureAs(CaseResult other) {
        return verdict.isFinding() && verdict == other.verdict && java.util.Objects.equals(opKind(op),
                opKind(other.op));
    }

    /** An op form without its epilogue and without "Fused": {@code FusedConv/depthwise(relu)} is {@code Conv/depthwise}. */
    static String opKind(String form) {
        if (form == null) {
            return null;
        }
        int paren = form.indexOf('(');
        String kind = paren < 0 ? form : form.substring(0, paren);
        return kind.startsWith("Fused") ? kind.substring(5) : kind;
    }
}
