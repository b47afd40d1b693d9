package dev.kiln.conformance.fuzz;

import java.util.List;
import java.util.Map;

/**
 * What a fuzz run did: how many graphs, what they covered, and what it found.
 *
 * @param seed        the run's seed
 * @param cases       graphs generated and checked
 * @param nodes       ONNX nodes over all those graphs
 * @param seconds     the run's wall time
 * @param ops         how many graphs each ONNX op type appeared in
 * @param opsMissing  ONNX op types the importer converts that no graph had
 * @param targets     per target (a backend's id, or {@code optimizer}): its checks, time and coverage
 * @param findings    every finding, shrunk; repeats of one signature are counted in their target
 */
public record FuzzReport(long seed, long cases, long nodes, double seconds, Map<String, Integer> ops,
                         List<String> opsMissing, List<TargetReport> targets, List<Finding> findings) {

    public boolean passed() {
        return findings.isEmpty();
    }

    /**
     * One target's share.
     *
     * @param target          a backend's id or {@code optimizer}
     * @param checks          graphs checked
     * @param seconds         time spent in its checks (shrinking not counted)
     * @param casesPerMinute  checks per minute of that time
     * @param forms           how many graphs each form (op with its fused epilogue) ran in on it
     * @param failures        failing checks by op (the failing node's form, or what failed)
     */
    public record TargetReport(String target, long checks, double seconds, double casesPerMinute,
                               Map<String, Integer> forms, Map<String, Integer> failures) {
    }

    /**
     * One distinct failure.
     *
     * @param caseName  its folder's name under the output folder
     * @param target    the backend or {@code optimizer}
     * @param verdict   DIVERGED, FAILED or CRASHED
     * @param op        where (the failing node's form), or null
     * @param message   the shrunk case's message
     * @param nodes     the shrunk graph's ONNX node count
     * @param original  the generated graph's node count
     * @param recipe    the shrunk graph's recipe line
     * @param written   what was written and the command that replays it (null when no folder was written)
     */
    public record Finding(String caseName, String target, String verdict, String op, String message, int nodes,
                          int original, String recipe, String written) {
    }
}
