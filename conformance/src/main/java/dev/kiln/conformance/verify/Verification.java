package dev.kiln.conformance.verify;

import java.util.List;

/**
 * The outcome of verifying a graph on some backends.
 *
 * @param model     the graph's name
 * @param nodes     how many nodes the optimized graph has
 * @param values    how many values were compared per backend
 * @param verdicts  one per backend, in the order asked
 */
public record Verification(String model, int nodes, int values, List<BackendVerdict> verdicts) {

    public Verification {
        verdicts = List.copyOf(verdicts);
    }

    public boolean passed() {
        return verdicts.stream().allMatch(BackendVerdict::passed);
    }
}
