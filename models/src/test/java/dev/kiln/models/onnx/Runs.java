package dev.kiln.models.onnx;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.reference.ReferenceBackend;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs graphs on the reference backend for the importer's tests. */
final class Runs {
    private static final Engine ENGINE = Engine.withBackends(List.of(new ReferenceBackend()));

    private Runs() {
    }

    /** One computed tensor: its shape and values. */
    record Result(Shape shape, float[] values) {
    }

    /** Runs a graph with one input, as written (no optimizer), and returns its first output. */
    static Result run(Graph graph, Shape shape, float... values) {
        return run(graph, Map.of(graph.inputs().getFirst().name(), new Input(shape, values)));
    }

    record Input(Shape shape, float[] values) {
    }

    static Result run(Graph graph, Map<String, Input> inputs) {
        Map<String, Tensor> feeds = new HashMap<>();
        try (CompiledModel model = ENGINE.compile(graph, new CompileOptions(ReferenceBackend.ID, false))) {
            inputs.forEach((name, in) -> feeds.put(name, Tensor.of(in.shape(), in.values())));
            Map<String, Tensor> out = model.run(feeds);
            try {
                Tensor first = out.get(graph.outputs().getFirst());
                return new Result(first.shape(), first.toFloatArray());
            } finally {
                out.values().forEach(Tensor::close);
            }
        } finally {
            feeds.values().forEach(Tensor::close);
        }
    }

    /** The graph's only node that is not one of the importer's helper reshapes. */
    static Node mainNode(Graph graph) {
        List<Node> main = graph.nodes().stream().filter(n -> !n.name().contains("/")).toList();
        if (main.size() != 1) {
            throw new AssertionError("expected one main node, got " + graph.nodes());
        }
        return main.getFirst();
    }

    /** 0, 1, 2, ... as floats. */
    static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    /** Deterministic values in [-1, 1) that are not a simple pattern. */
    static float[] values(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }
}
