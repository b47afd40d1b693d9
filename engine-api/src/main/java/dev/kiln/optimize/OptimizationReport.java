package dev.kiln.optimize;

import dev.kiln.graph.Graph;

import java.util.Map;

/**
 * What {@link Optimizer#optimize} did: the optimized graph (the caller closes it; see
 * {@link WorkingGraph} for what it shares with the source graph), the rewrites of each pass
 * summed over all rounds, in pass order, op type counts before and after, how many rounds
 * ran until no pass found anything left to rewrite, and the passes it skipped with the reason
 * (on a graph whose image size is open, those that need a concrete one:
 * {@link Pass#needsConcreteImageSize()}).
 */
public record OptimizationReport(Graph graph, Map<String, Integer> rewrites, Map<String, Integer> opsBefore,
                                 Map<String, Integer> opsAfter, int rounds, Map<String, String> skippedPasses) {

    public OptimizationReport {
        rewrites = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rewrites));
        opsBefore = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(opsBefore));
        opsAfter = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(opsAfter));
        skippedPasses = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(skippedPasses));
    }

    /** A report of a run that skipped no pass. */
    public OptimizationReport(Graph graph, Map<String, Integer> rewrites, Map<String, Integer> opsBefore,
                              Map<String, Integer> opsAfter, int rounds) {
        this(graph, rewrites, opsBefore, opsAfter, rounds, Map.of());
    }

    /** Total rewrites of all passes. */
    public int totalRewrites() {
        return rewrites.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** A few lines for people: the rewrites of each pass, then op counts before and after. */
    public String summary() {
        StringBuilder sb = new StringBuilder("optimized '" + graph.name() + "' in " + rounds + " rounds\n");
        rewrites.forEach((pass, n) -> sb.append(String.format("  %-28s %5d%n", pass, n)));
        sb.append("  ops before: ").append(opsBefore).append('\n');
        sb.append("  ops after:  ").append(opsAfter).append('\n');
        skippedPasses.forEach((pass, why) -> sb.append("  skipped ").append(pass).append(": ").append(why).append('\n'));
        return sb.toString();
    }
}
