package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.cache.CacheKey;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.selection.HostFingerprint;
import dev.kiln.spi.Backend;

import java.util.List;
import java.util.Map;

/**
 * The tuning cache key of a selection: everything a measured winner depends on. The graph counts
 * by its structure and shapes (ops with their attributes, value names, the weights' shapes) and
 * not by its weights' values, which do not change a dense kernel's speed: a fine-tuned copy of a
 * network reuses the answer.
 */
public final class SelectionKey {
    private SelectionKey() {
    }

    /**
     * @param backends every discovered backend, available or not: their ids and versions are
     *                 known without probing them, so a lookup loads no native library. Which of
     *                 them were candidates, and on which device, is part of the stored answer, and a
     *                 hit checks its winner's device.
     */
    public static CacheKey of(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                              HostFingerprint host) {
        return of(graph, inputShapes, backends, threads, host, Map.of());
    }

    /** @param pins the caller's placement pins: a selection under pins is another question, so another key */
    static CacheKey of(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                       HostFingerprint host, Map<String, String> pins) {
        CacheKey key = keyOf(graph, inputShapes, backends, threads, host);
        if (pins.isEmpty()) {
            return key; // the key of a selection without pins stays what it was
        }
        StringBuilder text = new StringBuilder();
        new java.util.TreeMap<>(pins).forEach((node, id) -> text.append(text.isEmpty() ? "" : ";").append(node)
                .append("->").append(id));
        return key.with("pins", CacheKey.sha256(text.toString()).substring(0, 16));
    }

    private static CacheKey keyOf(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                                  HostFingerprint host) {
        StringBuilder backendText = new StringBuilder();
        for (Backend b : backends) {
            backendText.append(backendText.isEmpty() ? "" : ",").append(b.id()).append('@').append(b.version());
        }
        return CacheKey.of()
                .with("graph", graph.name() + "#" + structureHash(graph))
                .with("inputs", inputText(graph, inputShapes))
                .with("backends", backendText.toString())
                .with("threads", Integer.toString(threads))
                .with("cpu", host.cpu())
                .with("isa", host.isa())
                .with("jdk", host.jdk())
                .with("kiln", host.kiln());
    }

    static String inputText(Graph graph, Map<String, Shape> inputShapes) {
        StringBuilder text = new StringBuilder();
        for (ValueInfo v : graph.inputs()) {
            text.append(text.isEmpty() ? "" : ",").append(v.name()).append(inputShapes.get(v.name()));
        }
        return text.toString();
    }

    /** SHA-256 of the nodes (op and attributes, inputs, outputs), inputs, outputs and weight shapes. */
    static String structureHash(Graph graph) {
        StringBuilder text = new StringBuilder();
        for (ValueInfo v : graph.inputs()) {
            text.append("input ").append(v.name()).append(' ').append(v.shape()).append('\n');
        }
        new java.util.TreeMap<>(graph.initializers()).forEach((name, t) -> text.append("weight ").append(name).append(' ')
                .append(t.shape()).append('\n'));
        for (Node n : graph.nodes()) {
            // An identity hash in a record's text ("[I@1b6d3586") would differ per process: drop it.
            text.append("node ").append(n.name()).append(' ').append(n.op().toString().replaceAll("@[0-9a-f]+", "@"))
                    .append(' ').append(n.inputs()).append(" -> ").append(n.outputs()).append('\n');
        }
        text.append("outputs ").append(graph.outputs()).append('\n');
        return CacheKey.sha256(text.toString()).substring(0, 16);
    }
}
