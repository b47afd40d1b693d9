package dev.kiln.conformance.verify;

import java.util.List;

/**
 * How one backend compares with the reference backend on every value of a graph.
 *
 * @param backend          the backend's id
 * @param passed           every value within tolerance and nothing failed
 * @param maxRelError      the largest relative error over every value
 * @param worstNode        the value with that error; null when nothing was compared
 * @param firstDivergent   the first value, in execution order, outside its tolerance; null when none
 * @param inputsInTolerance the values feeding the first divergent node, computed by earlier nodes,
 *                         still within tolerance (empty when it passes): the fault is in that node
 * @param fallbackNodes    nodes the backend did not run (they ran on another backend)
 * @param nodesOnBackend   how many nodes it ran
 * @param problems         what went wrong besides the numbers: a skipped compile, a failed run
 * @param checks           every value compared, in execution order
 * @param notVerifiable    nodes with no reference kernel: not compared, and what follows them is
 *                         checked from this backend's own output of them
 */
public record BackendVerdict(String backend, boolean passed, double maxRelError, ValueCheck worstNode,
                             ValueCheck firstDivergent, List<ValueCheck> inputsInTolerance,
                             List<String> fallbackNodes, int nodesOnBackend, List<String> problems,
                             List<ValueCheck> checks, List<String> notVerifiable) {

    public BackendVerdict {
        inputsInTolerance = List.copyOf(inputsInTolerance);
        fallbackNodes = List.copyOf(fallbackNodes);
        problems = List.copyOf(problems);
        checks = List.copyOf(checks);
        notVerifiable = List.copyOf(notVerifiable);
    }

    /** A verdict with every node verifiable. */
    public BackendVerdict(String backend, boolean passed, double maxRelError, ValueCheck worstNode,
                          ValueCheck firstDivergent, List<ValueCheck> inputsInTolerance, List<String> fallbackNodes,
                          int nodesOnBackend, List<String> problems, List<ValueCheck> checks) {
        this(backend, passed, maxRelError, worstNode, firstDivergent, inputsInTolerance, fallbackNodes, nodesOnBackend,
                problems, checks, List.of());
    }
}
