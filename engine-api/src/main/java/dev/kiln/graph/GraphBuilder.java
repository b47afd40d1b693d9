package dev.kiln.graph;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Op;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects inputs, initializers, nodes and outputs, then {@link #build()} checks that they form
 * a graph: every value defined once, every input defined, no cycle, arities and shapes that fit.
 * Nodes may be added in any order; the built graph holds them topologically sorted.
 */
public final class GraphBuilder {
    private final String name;
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private int autoNames;

    public GraphBuilder(String name) {
        this.name = name;
    }

    public GraphBuilder input(String valueName, Shape shape) {
        inputs.add(new ValueInfo(valueName, shape));
        return this;
    }

    /** A constant value; the built graph takes ownership of the tensor. */
    public GraphBuilder initializer(String valueName, Tensor value) {
        if (initializers.putIfAbsent(valueName, value) != null) {
            throw new GraphValidationException("initializer '" + valueName + "' is defined twice");
        }
        return this;
    }

    public GraphBuilder node(Node node) {
        nodes.add(node);
        return this;
    }

    public GraphBuilder node(String nodeName, Op op, List<String> nodeInputs, List<String> nodeOutputs) {
        return node(new Node(nodeName, op, nodeInputs, nodeOutputs));
    }

    /** Adds a single-output node named {@code nodeName} whose output is also {@code nodeName}. */
    public String add(String nodeName, Op op, String... nodeInputs) {
        node(new Node(nodeName, op, Arrays.asList(nodeInputs), List.of(nodeName)));
        return nodeName;
    }

    /** A fresh name with this prefix, for values and nodes a pass or builder creates. */
    public String uniqueName(String prefix) {
        return prefix + "_" + (autoNames++);
    }

    public GraphBuilder output(String valueName) {
        outputs.add(valueName);
        return this;
    }

    /**
     * Validates and builds. On failure the initializers this builder took ownership of are freed
     * and the exception names the problem.
     */
    public Graph build() {
        try {
            return validateAndBuild();
        } catch (RuntimeException e) {
            initializers.values().forEach(Tensor::close);
            throw e;
        }
    }

    private Graph validateAndBuild() {
        if (outputs.isEmpty()) {
            throw new GraphValidationException("graph '" + name + "' has no outputs");
        }
        Map<String, String> definedBy = new HashMap<>();
        for (ValueInfo v : inputs) {
            define(definedBy, v.name(), "graph input");
        }
        for (String init : initializers.keySet()) {
            if (definedBy.containsKey(init)) {
                continue; // ONNX allows an initializer to give a graph input its default value
            }
            define(definedBy, init, "initializer");
        }
        for (Node n : nodes) {
            checkArity(n);
            for (String out : n.outputs()) {
                if (out.isEmpty()) {
                    continue;
                }
                define(definedBy, out, n.describe());
            }
        }
        for (Node n : nodes) {
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !definedBy.containsKey(in)) {
                    throw new GraphValidationException(n.describe() + " reads '" + in
                            + "', which no input, initializer or node defines");
                }
            }
        }
        for (String out : outputs) {
            if (!definedBy.containsKey(out)) {
                throw new GraphValidationException("graph output '" + out + "' is not defined");
            }
        }
        Graph graph = new Graph(name, inputs, outputs, topologicalOrder(), initializers);
        // Validate shapes now, at batch 1, so a bad graph fails at build time (when the batch is all that is open).
        if (graph.hasFixedShapesBesidesBatch()) {
            graph.inferShapes(graph.inputShapesForBatch(1));
        }
        return graph;
    }

    private static void define(Map<String, String> definedBy, String value, String by) {
        String previous = definedBy.putIfAbsent(value, by);
        if (previous != null) {
            throw new GraphValidationException("value '" + value + "' is defined twice: by " + previous
                    + " and by " + by);
        }
    }

    private static void checkArity(Node n) {
        Op op = n.op();
        int given = n.inputs().size();
        if (given < op.minInputs() || given > op.maxInputs()) {
            String expected = op.minInputs() == op.maxInputs() ? Integer.toString(op.minInputs())
                    : op.minInputs() + " to " + (op.maxInputs() == Integer.MAX_VALUE ? "any" : op.maxInputs());
            throw new GraphValidationException(n.describe() + " takes " + expected + " inputs, got " + given);
        }
        for (int i = 0; i < op.minInputs(); i++) {
            if (n.input(i).isEmpty()) {
                throw new GraphValidationException(n.describe() + " is missing required input " + i);
            }
        }
        if (n.outputs().isEmpty() || n.outputs().size() > op.outputCount()) {
            throw new GraphValidationException(n.describe() + " has " + n.outputs().size() + " outputs, at most "
                    + op.outputCount() + " allowed");
        }
        if (n.output().isEmpty()) {
            // Only optional outputs may be absent (""); every op's first output is required.
            throw new GraphValidationException(n.describe() + " has no name for its first output, which is required");
        }
    }

    /** Kahn's algorithm, stable with respect to insertion order; a cycle is named by its nodes. */
    private List<Node> topologicalOrder() {
        Map<String, Node> producer = new HashMap<>();
        for (Node n : nodes) {
            for (String out : n.outputs()) {
                producer.put(out, n);
            }
        }
        Map<Node, Integer> pending = new LinkedHashMap<>();
        Map<Node, List<Node>> dependents = new HashMap<>();
        for (Node n : nodes) {
            Set<Node> deps = new HashSet<>();
            for (String in : n.inputs()) {
                Node p = producer.get(in);
                if (p != null && !in.isEmpty()) {
                    deps.add(p);
                }
            }
            pending.put(n, deps.size());
            for (Node d : deps) {
                dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(n);
            }
        }
        Deque<Node> ready = new ArrayDeque<>();
        pending.forEach((n, count) -> {
            if (count == 0) {
                ready.add(n);
            }
        });
        List<Node> order = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (Node d : dependents.getOrDefault(n, List.of())) {
                if (pending.merge(d, -1, Integer::sum) == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() != nodes.size()) {
            throw new GraphValidationException("graph '" + name + "' has a cycle through nodes "
                    + cycleAmong(pending, dependents));
        }
        return order;
    }

    /**
     * One cycle among the nodes Kahn's algorithm could not order, named in dataflow order. Each
     * of them waits for another of them, so walking back along waiting dependencies must repeat.
     */
    private static List<String> cycleAmong(Map<Node, Integer> pending, Map<Node, List<Node>> dependents) {
        Map<Node, Node> waitsFor = new HashMap<>();
        dependents.forEach((dependency, readers) -> {
            if (pending.get(dependency) > 0) {
                readers.forEach(r -> waitsFor.putIfAbsent(r, dependency));
            }
        });
        Node start = pending.entrySet().stream().filter(e -> e.getValue() > 0 && waitsFor.containsKey(e.getKey()))
                .findFirst().orElseThrow().getKey();
        List<Node> path = new ArrayList<>();
        Node n = start;
        while (!path.contains(n)) {
            path.add(n);
            n = waitsFor.get(n);
        }
        List<String> cycle = new ArrayList<>();
        for (Node member : path.subList(path.indexOf(n), path.size()).reversed()) {
            cycle.add("'" + member.name() + "'");
        }
        return cycle;
    }
}
