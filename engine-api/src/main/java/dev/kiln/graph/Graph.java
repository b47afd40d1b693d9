package dev.kiln.graph;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Op;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated, topologically ordered dataflow graph: inputs with declared (possibly symbolic)
 * shapes, constant initializers (weights), nodes, and outputs. Built with {@link GraphBuilder};
 * immutable once built. The graph owns its initializers and frees them on {@link #close()}.
 */
public final class Graph implements AutoCloseable {
    private final String name;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    Graph(String name, List<ValueInfo> inputs, List<String> outputs, List<Node> nodes,
          Map<String, Tensor> initializers) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        for (Node n : nodes) {
            for (String out : n.outputs()) {
                producers.put(out, n);
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
                }
            }
        }
    }

    public String name() {
        return name;
    }

    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    /** Nodes in a topological order. */
    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Tensor> initializers() {
        return initializers;
    }

    public boolean isConstant(String value) {
        return initializers.containsKey(value);
    }

    /** The node that writes this value, or null for inputs and initializers. */
    public Node producer(String value) {
        return producers.get(value);
    }

    public List<Node> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    public ValueInfo input(String inputName) {
        for (ValueInfo v : inputs) {
            if (v.name().equals(inputName)) {
                return v;
            }
        }
        return null;
    }

    /**
     * Learned parameters, counted as frameworks count them: every initializer except
     * batch-norm running statistics (buffers, not parameters).
     */
    public long parameterCount() {
        java.util.Set<String> statistics = new java.util.HashSet<>();
        for (Node n : nodes) {
            if (n.op() instanceof BatchNormalization) {
                statistics.add(n.input(3));
                statistics.add(n.input(4));
            }
        }
        long count = 0;
        for (Map.Entry<String, Tensor> e : initializers.entrySet()) {
            if (!statistics.contains(e.getKey())) {
                count += e.getValue().elementCount();
            }
        }
        return count;
    }

    /** Shapes of every value for these concrete input shapes; see {@link ShapeInference}. */
    public Map<String, Shape> inferShapes(Map<String, Shape> inputShapes) {
        return ShapeInference.infer(this, inputShapes);
    }

    /**
     * True when the only symbolic input dimensions are batch axes (axis 0), so that a batch size
     * alone makes every shape concrete. The usual case for CNNs; a model with a symbolic image
     * size is compiled only once real inputs arrive.
     */
    public boolean hasFixedShapesBesidesBatch() {
        for (ValueInfo v : inputs) {
            for (int i = 1; i < v.shape().rank(); i++) {
                if (v.shape().dim(i) == Shape.DYNAMIC) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The declared input shapes with a symbolic batch axis set to {@code batch}.
     *
     * @throws IllegalStateException naming an input with a symbolic dimension besides the batch
     */
    public Map<String, Shape> inputShapesForBatch(int batch) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (ValueInfo v : inputs) {
            int[] d = v.shape().dims();
            for (int i = 0; i < d.length; i++) {
                if (d[i] == Shape.DYNAMIC) {
                    if (i > 0) {
                        throw new IllegalStateException("input '" + v.name() + "' " + v.shape() + " has a symbolic"
                                + " dimension besides the batch: its shapes come only with real inputs");
                    }
                    d[i] = batch;
                }
            }
            shapes.put(v.name(), Shape.of(d));
        }
        return shapes;
    }

    /**
     * The graph outputs with their shapes as the declared inputs make them: an axis that follows
     * the inputs' batch size is {@link Shape#DYNAMIC} (worked out by inferring shapes at batches
     * 1 and 2 and comparing). Where the inputs are symbolic beyond the batch, output shapes come
     * only with real inputs and each is given as the empty shape {@code []}, as {@code kiln
     * inspect} shows an unknown one.
     */
    public List<ValueInfo> outputInfos() {
        if (!hasFixedShapesBesidesBatch()) {
            return outputs.stream().map(o -> new ValueInfo(o, Shape.of())).toList();
        }
        Map<String, Shape> one = inferShapes(inputShapesForBatch(1));
        Map<String, Shape> two = inferShapes(inputShapesForBatch(2));
        List<ValueInfo> infos = new ArrayList<>();
        for (String o : outputs) {
            int[] a = one.get(o).dims();
            int[] b = two.get(o).dims();
            for (int i = 0; i < a.length; i++) {
                if (i >= b.length || a[i] != b[i]) {
                    a[i] = Shape.DYNAMIC;
                }
            }
            infos.add(new ValueInfo(o, Shape.of(a)));
        }
        return List.copyOf(infos);
    }

    /** Multiply-accumulates of one forward pass at this batch size. */
    public long macs(int batch) {
        Map<String, Shape> shapes = inferShapes(inputShapesForBatch(batch));
        long total = 0;
        for (Node n : nodes) {
            total += n.op().macs(shapesOf(n.inputs(), shapes), shapesOf(n.outputs(), shapes));
        }
        return total;
    }

    static List<Shape> shapesOf(List<String> names, Map<String, Shape> shapes) {
        List<Shape> out = new ArrayList<>(names.size());
        for (String n : names) {
            out.add(n.isEmpty() ? null : shapes.get(n));
        }
        return out;
    }

    /** Op type to number of nodes, in first-seen order. */
    public Map<String, Integer> opCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Node n : nodes) {
            counts.merge(n.op().type(), 1, Integer::sum);
        }
        return counts;
    }

    /** A builder holding this graph's inputs, initializers, nodes and outputs, to derive a new graph. */
    public GraphBuilder toBuilder() {
        GraphBuilder b = new GraphBuilder(name);
        inputs.forEach(v -> b.input(v.name(), v.shape()));
        initializers.forEach(b::initializer);
        nodes.forEach(b::node);
        outputs.forEach(b::output);
        return b;
    }

    /** Frees the initializers. Models compiled from this graph must not be used afterwards. */
    @Override
    public void close() {
        initializers.values().forEach(Tensor::close);
    }

    @Override
    public String toString() {
        return "Graph '" + name + "' (" + nodes.size() + " nodes, inputs " + inputs + ", outputs " + outputs + ")";
    }
}
