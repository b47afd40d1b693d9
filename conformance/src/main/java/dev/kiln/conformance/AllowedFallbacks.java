package dev.kiln.conformance;

import dev.kiln.PlanReport;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The nodes a backend under test may leave to another backend, each with the reason, written by
 * the test that checks it. A conformance check passes only when every node of the case ran on
 * the backend under test or matches one of these entries: a backend that falls back for most of
 * a network, or refuses a form of an op it has a kernel for, would otherwise pass by comparing
 * the reference backend with itself.
 *
 * <p>An entry names the backend, the op type as {@link PlanReport.Placement#op()} gives it
 * ({@code "MatMul"}, {@code "Add"}), and optionally a fragment of the backend's own refusal (what
 * its {@code supports} said, as {@code kiln explain} prints it), so that a backend allowed to
 * refuse one form of an op (general broadcasting) still fails on another (a same-shape
 * {@code Add}). Without a fragment, every node of that op type may fall back: for an op the
 * backend has no kernel for at all. The op {@link #ANY_OP} matches every op type, for a backend
 * whose refusal names its reason whatever the op (a test double that runs three ops).
 *
 * <pre>{@code
 * AllowedFallbacks allowed = AllowedFallbacks.none()
 *         .allow("my-backend", "LRN", "no LRN kernel: no network of the six uses it after import")
 *         .allow("my-backend", "Add", "neither operand has the output's shape",
 *                 "general broadcasting is not built; the networks add same shapes or per channel");
 * CheckResult r = Conformance.check(engine, "my-backend", c, allowed);
 * }</pre>
 */
public final class AllowedFallbacks {

    /**
     * One allowance.
     *
     * @param backend the backend under test it applies to
     * @param op      the op type, as {@link PlanReport.Placement#op()} names it, or {@link #ANY_OP}
     * @param refusal a fragment of the backend's refusal that must appear in it, or empty for any
     * @param why     why this fallback is legitimate, for the reports
     */
    public record Entry(String backend, String op, String refusal, String why) {
        public Entry {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(op, "op");
            Objects.requireNonNull(refusal, "refusal");
            if (why == null || why.isBlank()) {
                throw new IllegalArgumentException("an allowed fallback of " + op + " on " + backend
                        + " needs its reason");
            }
        }

        boolean matches(String backendId, PlanReport.Placement p) {
            if (!backend.equals(backendId) || !(op.equals(ANY_OP) || op.equals(p.op()))) {
                return false;
            }
            return refusal.isEmpty() || refusalOf(backendId, p.reason()).contains(refusal);
        }

        @Override
        public String toString() {
            return op + " on " + backend + (refusal.isEmpty() ? "" : " (refused: ..." + refusal + "...)") + ": " + why;
        }
    }

    /** In an entry, every op type. */
    public static final String ANY_OP = "*";

    private static final AllowedFallbacks NONE = new AllowedFallbacks(List.of());

    private final List<Entry> entries;

    private AllowedFallbacks(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** No fallback allowed: every node must run on the backend under test. */
    public static AllowedFallbacks none() {
        return NONE;
    }

    /** These and one more: every node of {@code op} may fall back from {@code backend}, for the reason {@code why}. */
    public AllowedFallbacks allow(String backend, String op, String why) {
        return allow(backend, op, "", why);
    }

    /**
     * These and one more: a node of {@code op} may fall back from {@code backend} when the
     * backend's refusal contains {@code refusal}, for the reason {@code why}.
     */
    public AllowedFallbacks allow(String backend, String op, String refusal, String why) {
        List<Entry> more = new ArrayList<>(entries);
        more.add(new Entry(backend, op, refusal, why));
        return new AllowedFallbacks(more);
    }

    /** These and every entry of {@code other}. */
    public AllowedFallbacks and(AllowedFallbacks other) {
        List<Entry> more = new ArrayList<>(entries);
        more.addAll(other.entries);
        return new AllowedFallbacks(more);
    }

    public List<Entry> entries() {
        return entries;
    }

    /**
     * The entry that allows {@code p} to have run elsewhere than on {@code backend}, or null when
     * none does; null too for a node that ran on {@code backend}.
     */
    public Entry allowing(String backend, PlanReport.Placement p) {
        if (p.backend().equals(backend)) {
            return null;
        }
        for (Entry e : entries) {
            if (e.matches(backend, p)) {
                return e;
            }
        }
        return null;
    }

    /**
     * One line per node of {@code placements} that ran elsewhere than on {@code backend} with no
     * entry allowing it: the node, its op, where it ran and why; empty when placement is as
     * required.
     */
    public List<String> unexpected(String backend, List<PlanReport.Placement> placements) {
        List<String> lines = new ArrayList<>();
        for (PlanReport.Placement p : placements) {
            if (!p.backend().equals(backend) && allowing(backend, p) == null) {
                lines.add("node '" + p.node() + "' (" + p.op() + ") ran on " + p.backend() + ", not on " + backend
                        + ": " + p.reason());
            }
        }
        return lines;
    }

    /**
     * What {@code backend} said when it refused a node, taken from a placement's reason ("fallback:
     * a cannot run it (...); b cannot run it (...)"); the whole reason when it does not name the
     * backend (a backend skipped for failing to compile says so elsewhere).
     */
    static String refusalOf(String backend, String placementReason) {
        String marker = backend + " cannot run it (";
        int start = placementReason.indexOf(marker);
        if (start < 0) {
            return placementReason;
        }
        start += marker.length();
        int depth = 1;
        for (int i = start; i < placementReason.length(); i++) {
            char ch = placementReason.charAt(i);
            if (ch == '(') {
                depth++;
            } else if (ch == ')' && --depth == 0) {
                return placementReason.substring(start, i);
            }
        }
        return placementReason.substring(start);
    }

    @Override
    public String toString() {
        return entries.isEmpty() ? "no fallback allowed" : entries.toString();
    }
}
