package dev.kiln.cli;

import java.util.Arrays;

/**
 * Summary of timed runs, in milliseconds: the median, the 90th percentile (nearest rank: the
 * smallest run at least 90% of the runs do not exceed; p90 over the median says how much a latency
 * swings), the 99th percentile the same way (with fewer than 100 runs, the slowest), the fastest and
 * the slowest.
 */
record Timings(double medianMs, double p90Ms, double p99Ms, double minMs, double maxMs) {

    /** From durations in nanoseconds; the median of an even count is the mean of the middle two. */
    static Timings ofNanos(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no timed runs");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        double median = sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
        return new Timings(median / 1e6, nearestRank(sorted, 0.9) / 1e6, nearestRank(sorted, 0.99) / 1e6,
                sorted[0] / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    private static long nearestRank(long[] sorted, double fraction) {
        return sorted[(int) Math.ceil(fraction * sorted.length) - 1];
    }
}
