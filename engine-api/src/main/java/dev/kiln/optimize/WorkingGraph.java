package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mutable form of a graph that passes rewrite: nodes in a topological order, initializers,
 * and the graph's inputs and outputs, which no pass changes. {@link #toGraph()} turns it back
 * into an immutable, validated {@link Graph}.
 *
 * <p>Order: a rewrite that merges a chain of nodes puts the merged node where the last node of
 * the chain was and gives it that node's outputs; every input of the chain is computed before
 * that position, so the order stays topological without sorting.
 *
 * <p>Ownership: the initializers of the source graph stay the source graph's. The optimized
 * graph reads the ones it keeps through views of the same memory (no copy, so VGG's 500 MB of
 * weights are not duplicated), and owns only the tensors the passes created, which closing it
 * frees. The source graph must therefore stay open while the optimized one is used, as it must
 * while a model compiled from it runs.
 */
public final class WorkingGraph {
    private final String name;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    /** Initializers a pass created: this working graph owns them until {@link #toGraph()}. */
    private final Set<String> created = new HashSet<>();
    /** Every value name ever used, so that fresh names never collide with one, live or removed. */
    private final Set<String> usedNames = new HashSet<>();
    private ValueShapes shapes;
    private boolean built;

    public WorkingGraph(Graph graph) {
        this.name = graph.name();
        this.inputs = List.copyOf(graph.inputs());
        this.outputs = List.copyOf(graph.outputs());
        this.nodes = new ArrayList<>(graph.nodes());
        this.initializers = new LinkedHashMap<>(graph.initializers());
        inputs.forEach(v -> usedNames.add(v.name()));
        usedNames.addAll(initializers.keySet());
        nodes.forEach(n -> usedNames.addAll(n.outputs()));
    }

    public String name() {
        return name;
    }

    /** A snapshot of the nodes in topological order; rewrites made while iterating do not change it. */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** Whether the node (this very instance) is still part of the graph. */
    public boolean contains(Node node) {
        return positionOf(node) >= 0;
    }

    /** The position of a node in the current order, or -1. */
    public int positionOf(Node node) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i) == node) {
                return i;
            }
        }
        return -1;
    }

    /** The node that writes this value, or null for graph inputs and initializers. */
    public Node producer(String value) {
        for (Node n : nodes) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }

    /** Nodes that read this value, each once, in order. */
    public List<Node> consumers(String value) {
        List<Node> readers = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                readers.add(n);
            }
        }
        return readers;
    }

    /**
     * True when {@code reader} reads the value exactly once and nothing else needs it: no other
     * node and no graph output. Only then may a rewrite fold the value away into its reader.
     */
    public boolean isOnlyReadBy(String value, Node reader) {
        if (isGraphOutput(value)) {
            return false;
        }
        int reads = 0;
        for (Node n : nodes) {
            for (String in : n.inputs()) {
                if (in.equals(value)) {
                    if (n != reader) {
                        return false;
                    }
                    reads++;
                }
            }
        }
        return reads == 1;
    }

    public boolean isGraphOutput(String value) {
        return outputs.contains(value);
    }

    public boolean isGraphInput(String value) {
        return inputs.stream().anyMatch(v -> v.name().equals(value));
    }

    /**
     * True for an initializer that is not also a graph input: an initializer with an input's name
     * is only that input's default (as ONNX allows), and a caller may feed another value.
     */
    public boolean isConstant(String value) {
        return initializers.containsKey(value) && !isGraphInput(value);
    }

    /** The value of a constant; see {@link #isConstant}. */
    public Tensor constant(String value) {
        if (!isConstant(value)) {
            throw new IllegalArgumentException("'" + value + "' is not a constant of graph '" + name + "'");
        }
        return initializers.get(value);
    }

    /** Names of all initializers, in a snapshot. */
    public Set<String> initializerNames() {
        return Set.copyOf(initializers.keySet());
    }

    /** Adds a constant under a fresh name starting with {@code prefix}; the graph takes ownership. */
    public String addConstant(String prefix, Tensor value) {
        String fresh = freshName(prefix);
        defineConstant(fresh, value);
        return fresh;
    }

    /**
     * Defines a constant under a name no live value has (the output of a node just removed, so its
     * readers now read the constant); the graph takes ownership.
     */
    public void defineConstant(String valueName, Tensor value) {
        if (initializers.containsKey(valueName) || producer(valueName) != null || isGraphInput(valueName)) {
            throw new IllegalArgumentException("value '" + valueName + "' is already defined in graph '" + name + "'");
        }
        initializers.put(valueName, value);
        created.add(valueName);
        usedNames.add(valueName);
        changed();
    }

    /** Drops an initializer; frees it if a pass created it. */
    public void removeInitializer(String valueName) {
        Tensor t = initializers.remove(valueName);
        if (t != null && created.remove(valueName)) {
            t.close();
        }
        changed();
    }

    /** A value name that no value of this graph has or had. */
    public String freshName(String prefix) {
        String candidate = prefix;
        for (int i = 1; usedNames.contains(candidate); i++) {
            candidate = prefix + "_" + i;
        }
        usedNames.add(candidate);
        return candidate;
    }

    /** Puts {@code replacement} where {@code old} is. */
    public void replace(Node old, Node replacement) {
        nodes.set(requirePosition(old), replacement);
        usedNames.addAll(replacement.outputs());
        changed();
    }

    public void remove(Node node) {
        nodes.remove(requirePosition(node));
        changed();
    }

    /** Makes every node that reads {@code from} read {@code to} instead. */
    public void replaceUses(String from, String to) {
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (n.inputs().contains(from)) {
                List<String> renamed = n.inputs().stream().map(v -> v.equals(from) ? to : v).toList();
                nodes.set(i, new Node(n.name(), n.op(), renamed, n.outputs()));
            }
        }
        changed();
    }

    /**
     * Removes a node whose first output equals its first input and makes its readers read that
     * input. When the node's output is a graph output, the node producing the input writes the
     * output's name instead, so the graph's interface keeps its names; that is impossible when
     * the input is a graph input, a constant or itself a graph output, and then the node stays.
     *
     * @return whether the node was removed
     */
    public boolean bypass(Node node) {
        String in = node.input(0);
        String out = node.output();
        if (!isGraphOutput(out)) {
            remove(node);
            replaceUses(out, in);
            return true;
        }
        Node source = producer(in);
        if (source == null || isGraphOutput(in)) {
            return false;
        }
        remove(node);
        List<String> renamedOutputs = source.outputs().stream().map(v -> v.equals(in) ? out : v).toList();
        nodes.set(requirePosition(source), new Node(source.name(), source.op(), source.inputs(), renamedOutputs));
        replaceUses(in, out);
        return true;
    }

    /**
     * Shapes of every value at batch 1 (and 2, to tell batch-independent facts; and at probe sizes
     * where the image size is open: see {@link ValueShapes}); cached until the next change.
     *
     * @throws GraphValidationException when shapes do not infer at one of those input shapes
     */
    public ValueShapes shapes() {
        if (shapes == null) {
            shapes = ValueShapes.of(this::inferShapes, inputs);
        }
        return shapes;
    }

    /** Propagates shapes as {@link dev.kiln.graph.ShapeInference} does, over the current nodes, from concrete input shapes. */
    private Map<String, Shape> inferShapes(Map<String, Shape> inputShapes) {
        Map<String, Shape> result = new HashMap<>();
        initializers.forEach((k, t) -> result.put(k, t.shape()));
        result.putAll(inputShapes);
        for (Node n : nodes) {
            List<Shape> in = new ArrayList<>();
            for (String v : n.inputs()) {
                in.add(v.isEmpty() ? null : result.get(v));
            }
            List<Shape> out;
            try {
                out = n.op().inferShapes(in);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new GraphValidationException(n.describe() + " with inputs " + in + " for graph inputs "
                        + inputShapes + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < n.outputs().size(); i++) {
                // An output the op does not compute (Dropout's mask) has the first output's shape.
                result.put(n.outputs().get(i), i < out.size() ? out.get(i) : out.getFirst());
            }
        }
        return result;
    }

    /**
     * Builds the validated graph. The new graph owns the tensors the passes created and views the
     * source graph's (see the class comment). This working graph must not be used afterwards.
     */
    public Graph toGraph() {
        if (built) {
            throw new IllegalStateException("working graph '" + name + "' was already built");
        }
        GraphBuilder b = new GraphBuilder(name);
        inputs.forEach(v -> b.input(v.name(), v.shape()));
        initializers.forEach((k, t) -> b.initializer(k, created.contains(k) ? t : Tensor.wrap(t.segment(), t.shape())));
        nodes.forEach(b::node);
        outputs.forEach(b::output);
        Graph graph = b.build();
        built = true;
        created.clear();
        return graph;
    }

    /** Frees the tensors the passes created, when the optimization is abandoned. */
    public void discard() {
        for (String k : created) {
            initializers.get(k).close();
        }
        created.clear();
    }

    private int requirePosition(Node node) {
        int i = positionOf(node);
        if (i < 0) {
            throw new IllegalArgumentException(node.describe() + " is not in graph '" + name + "'");
        }
        return i;
    }

    private void changed() {
        shapes = null;
    }
}
