package dev.kiln;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the time of a compiled model's runs goes: one entry per node, or per partition where its
 * backend cannot time nodes one by one, plus the copies between host memory and each partition.
 * Pass one to {@link CompiledModel#run(Map, RunProfile)} for as many runs as wanted; it keeps
 * every sample, so medians are exact. Safe to share between threads.
 *
 * <p>Timing adds a clock read per node (tens of nanoseconds), so a profiled run is a little
 * slower than a plain one; a backend that times nodes waits for each to finish.
 */
public final class RunProfile {

    /** What an entry times. */
    public enum Kind {
        /** One node of the graph. */
        NODE,
        /** A whole partition whose backend does not time its nodes: its execution and its downloads. */
        PARTITION,
        /** The uploads into a partition, or the downloads from one whose nodes are timed. */
        TRANSFER
    }

    /**
     * One node, partition or transfer, over every run it was timed in.
     *
     * @param name      the node's name, or "partition 2 (onednn, 140 nodes)", or "upload to partition 0"
     * @param op        the node's op type; empty for partitions and transfers
     * @param backend   the backend that ran it
     * @param algorithm how the backend's kernel computes it, as {@code explain} shows; may be empty
     * @param runs      how many runs timed it
     * @param medianMicros the median of those times, in microseconds
     * @param totalMicros  their sum, in microseconds
     */
    public record Entry(String name, Kind kind, String op, String backend, String algorithm, int runs,
                        double medianMicros, double totalMicros) {
    }

    private final Map<String, Samples> entries = new LinkedHashMap<>();

    private static final class Samples {
        final Kind kind;
        final String op, backend, algorithm;
        long[] nanos = new long[16];
        int count;

        Samples(Kind kind, String op, String backend, String algorithm) {
            this.kind = kind;
            this.op = op;
            this.backend = backend;
            this.algorithm = algorithm;
        }

        void add(long value) {
            if (count == nanos.length) {
                nanos = Arrays.copyOf(nanos, count * 2);
            }
            nanos[count++] = value;
        }
    }

    /** Adds one run's time of an entry; called by the runtime. */
    public synchronized void record(String name, Kind kind, String op, String backend, String algorithm, long nanos) {
        entries.computeIfAbsent(name, n -> new Samples(kind, op, backend, algorithm)).add(nanos);
    }

    /** Every entry, in the order of its first run (the order in which a run meets them). */
    public synchronized List<Entry> entries() {
        List<Entry> list = new ArrayList<>(entries.size());
        entries.forEach((name, s) -> {
            long[] sorted = Arrays.copyOf(s.nanos, s.count);
            Arrays.sort(sorted);
            long total = 0;
            for (long n : sorted) {
                total += n;
            }
            double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
            list.add(new Entry(name, s.kind, s.op, s.backend, s.algorithm, s.count, median / 1e3, total / 1e3));
        });
        return list;
    }

    /** Forgets every sample, e.g. those of warm-up runs. */
    public synchronized void clear() {
        entries.clear();
    }
}
