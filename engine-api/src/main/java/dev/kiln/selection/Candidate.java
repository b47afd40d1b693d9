package dev.kiln.selection;

/**
 * One backend as {@code auto} saw it for one model and input shape.
 *
 * @param backend      its id
 * @param rank         its static rank (what the {@code rank} policy goes by)
 * @param outcome      measured now, timed earlier (from the cache), dropped, or not a candidate
 * @param medianMillis the median of its settled run times; NaN when it has none
 * @param runs         runs timed now, warm-up included (0 from the cache)
 * @param note         why it was dropped or is not a candidate, or how its time was taken
 */
public record Candidate(String backend, int rank, Outcome outcome, double medianMillis, int runs, String note) {

    public enum Outcome {
        /** Compiled and timed in this selection. */
        MEASURED,
        /** It runs every node but was not timed: the policy went by rank or the cache, or it was the only one. */
        UNMEASURED,
        /** Its time comes from the tuning cache. */
        CACHED,
        /** It failed to compile or run, ran past the budget, or left nodes to another backend. */
        DROPPED,
        /** Unavailable, or it does not run every node of the graph, or the reference backend while another runs it all. */
        NOT_A_CANDIDATE
    }

    public boolean timed() {
        return !Double.isNaN(medianMillis);
    }
}
