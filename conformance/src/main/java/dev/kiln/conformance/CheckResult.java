package dev.kiln.conformance;

import java.util.List;

/**
 * The outcome of running one case on one backend and on the reference backend.
 *
 * @param caseName       the case
 * @param backend        the backend under test
 * @param nodesOnBackend how many of the graph's nodes the backend ran (the rest fell back)
 * @param nodeCount      how many nodes the graph has
 * @param unexpectedFallbacks one line per node that ran elsewhere with no {@link AllowedFallbacks}
 *                       entry allowing it (where it ran and why); any of them fails the check
 * @param maxAbsError    the largest |y - y_ref| over every output
 * @param maxRelError    that error relative to its output's scale (max |y_ref|)
 * @param passed         every output within tolerance, the backend compiled its partitions, and
 *                       no node fell back unexpectedly
 * @param details        one line per output (or per problem), for failure messages
 */
public record CheckResult(String caseName, String backend, int nodesOnBackend, int nodeCount,
                          List<String> unexpectedFallbacks, double maxAbsError, double maxRelError, boolean passed,
                          List<String> details) {

    public CheckResult {
        unexpectedFallbacks = List.copyOf(unexpectedFallbacks);
        details = List.copyOf(details);
    }

    /** Every node ran on the backend under test or on a fallback the check allowed. */
    public boolean placedAsRequired() {
        return unexpectedFallbacks.isEmpty();
    }

    /**
     * Whether the backend ran at least one node. When it ran none, everything fell back (every
     * node allowed to, or the check failed) and the values say nothing about the backend.
     */
    public boolean exercised() {
        return nodesOnBackend > 0;
    }

    /** One line: the verdict, the case, the backend, how much of the case it ran, the largest error. */
    public String summary() {
        return (passed ? "PASSED" : "FAILED") + " '" + caseName + "' on " + backend + " (" + nodesOnBackend + "/"
                + nodeCount + " nodes on it): max |error| " + String.format("%.3g", maxAbsError) + ", relative "
                + String.format("%.3g", maxRelError);
    }

    /** The summary, then a line per output with the tolerance, for failure messages. */
    public String describe() {
        return summary() + "\n  " + String.join("\n  ", details);
    }

    @Override
    public String toString() {
        return describe();
    }
}
