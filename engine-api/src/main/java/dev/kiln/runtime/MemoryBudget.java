package dev.kiln.runtime;

import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.EngineOptions;
import dev.kiln.MemoryLimitException;
import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.spi.BoundNode;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a plan's memory against the engine's limits before any backend compiles it: every
 * tensor against {@link EngineOptions#maxTensorBytes()}, and what one run needs (the activation
 * memory plan, dense float32 with elementwise ops in place, plus the run's input and output
 * tensors) against {@link EngineOptions#maxMemoryBytes()}. A backend with padded layouts needs
 * somewhat more; the check is meant to stop absurd plans early, with the numbers.
 */
final class MemoryBudget {
    static final String HOW_TO_CHANGE = "set with --max-memory, " + EngineOptions.MAX_MEMORY_ENV
            + " or EngineOptions.withMaxMemoryBytes";

    private MemoryBudget() {
    }

    /** @return what one run needs, in bytes */
    static long check(Graph graph, Map<String, Shape> shapes, List<BoundNode> nodes, EngineOptions options) {
        long inputs = 0;
        for (ValueInfo v : graph.inputs()) {
            Shape s = shapes.get(v.name());
            if (s != null) {
                inputs = saturatedAdd(inputs, checkTensor(graph, "graph input '" + v.name() + "'", s, options));
            }
        }
        for (BoundNode n : nodes) {
            List<String> outs = n.node().outputs();
            for (int i = 0; i < outs.size(); i++) {
                if (!outs.get(i).isEmpty() && n.outputShapes().get(i) != null) {
                    checkTensor(graph, "value '" + outs.get(i) + "' of " + n.node().describe(), n.outputShapes().get(i),
                            options);
                }
            }
        }
        long outputs = outputBytes(graph, shapes);
        long activations = activationBytes(graph, nodes);
        long needed = saturatedAdd(saturatedAdd(activations, inputs), outputs);
        if (needed > options.maxMemoryBytes()) {
            throw new MemoryLimitException("graph '" + graph.name() + "' at input shapes " + inputShapes(graph, shapes)
                    + " needs " + EngineOptions.describeBytes(needed) + " of memory per run (activations "
                    + EngineOptions.describeBytes(activations) + ", inputs " + EngineOptions.describeBytes(inputs)
                    + ", outputs " + EngineOptions.describeBytes(outputs) + "), more than the memory limit of "
                    + EngineOptions.describeBytes(options.maxMemoryBytes()) + " (" + HOW_TO_CHANGE + ")",
                    needed, options.maxMemoryBytes());
        }
        return needed;
    }

    /**
     * What one run needs by the same count as {@link #check}: the activation memory plan, dense
     * float32 with elementwise ops in place, plus the run's input and output tensors; without
     * comparing it with any limit.
     */
    static long perRun(Graph graph, Map<String, Shape> shapes, List<BoundNode> nodes) {
        long inputs = 0;
        for (ValueInfo v : graph.inputs()) {
            Shape s = shapes.get(v.name());
            if (s != null) {
                inputs = saturatedAdd(inputs, MemoryPlanner.denseBytes(s));
            }
        }
        return saturatedAdd(saturatedAdd(activationBytes(graph, nodes), inputs), outputBytes(graph, shapes));
    }

    private static long outputBytes(Graph graph, Map<String, Shape> shapes) {
        long outputs = 0;
        for (String o : new LinkedHashSet<>(graph.outputs())) {
            outputs = saturatedAdd(outputs, MemoryPlanner.denseBytes(shapes.get(o)));
        }
        return outputs;
    }

    private static long activationBytes(Graph graph, List<BoundNode> nodes) {
        List<String> inputNames = graph.inputs().stream().map(ValueInfo::name).toList();
        Set<String> constants = graph.initializers().keySet();
        long activations = 0;
        for (long b : MemoryPlanner.plan(nodes, inputNames, graph.outputs(), constants, MemoryPlanner.ELEMENTWISE)
                .bufferBytes()) {
            activations = saturatedAdd(activations, b);
        }
        return activations;
    }

    /**
     * How many runs needing {@code bytesPerRun} each may be in flight at once: the engine's
     * {@link EngineOptions#concurrentRuns()}, fewer when that many would not fit in the memory
     * limit together, and at least one (which {@link #check} has found to fit).
     */
    static int concurrentRuns(long bytesPerRun, EngineOptions options) {
        long fit = options.maxMemoryBytes() / Math.max(bytesPerRun, 1);
        return (int) Math.clamp(fit, 1, options.concurrentRuns());
    }

    private static long checkTensor(Graph graph, String what, Shape shape, EngineOptions options) {
        long bytes = MemoryPlanner.denseBytes(shape);
        if (bytes > options.maxTensorBytes()) {
            throw new MemoryLimitException(what + " of graph '" + graph.name() + "' has shape " + shape + " and needs "
                    + EngineOptions.describeBytes(bytes) + ", more than the limit for one tensor, "
                    + EngineOptions.describeBytes(options.maxTensorBytes()) + " (" + HOW_TO_CHANGE + ")",
                    bytes, options.maxTensorBytes());
        }
        return bytes;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum; // both are non-negative
    }

    private static String inputShapes(Graph graph, Map<String, Shape> shapes) {
        StringBuilder s = new StringBuilder("{");
        for (ValueInfo v : graph.inputs()) {
            s.append(s.length() > 1 ? ", " : "").append(v.name()).append(' ').append(shapes.get(v.name()));
        }
        return s.append('}').toString();
    }
}
