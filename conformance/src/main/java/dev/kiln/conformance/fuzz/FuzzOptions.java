package dev.kiln.conformance.fuzz;

import java.nio.file.Path;

/**
 * What a fuzz run does.
 *
 * @param seed        the run's seed: case i of seed s is always the same graph
 * @param cases       how many graphs to generate; 0 for no count limit (then {@code seconds} ends it)
 * @param seconds     how long to run; 0 for no time limit (then {@code cases} ends it)
 * @param maxNodes    the most ONNX nodes a graph has
 * @param out         where findings are written, one folder per finding; null to write none
 * @param shrinkRuns  the most candidates one finding's shrinking runs
 */
public record FuzzOptions(long seed, long cases, double seconds, int maxNodes, Path out, int shrinkRuns) {

    public FuzzOptions {
        if (cases < 0 || seconds < 0 || (cases == 0 && seconds == 0)) {
            throw new IllegalArgumentException("a fuzz run needs a number of cases or seconds (got " + cases
                    + " cases, " + seconds + " s)");
        }
        if (maxNodes < 1) {
            throw new IllegalArgumentException("--max-nodes must be at least 1, got " + maxNodes);
        }
        if (shrinkRuns < 0) {
            throw new IllegalArgumentException("shrink runs must not be negative, got " + shrinkRuns);
        }
    }

    /** A fixed number of cases, 12 nodes at most, 300 shrink runs, no files. */
    public static FuzzOptions cases(long seed, long cases) {
        return new FuzzOptions(seed, cases, 0, 12, null, 300);
    }

    public FuzzOptions withOut(Path dir) {
        return new FuzzOptions(seed, cases, seconds, maxNodes, dir, shrinkRuns);
    }

    public FuzzOptions withMaxNodes(int n) {
        return new FuzzOptions(seed, cases, seconds, n, out, shrinkRuns);
    }
}
