package dev.kiln.conformance.verify;

import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The same graph with every value its nodes compute made a graph output, so that one run
 * returns all of them. Compiled without the optimizer it stays node for node the graph it was
 * made from (an optimizer would fold or fuse differently now that every value is an output).
 */
public final class TappedGraph {
    private TappedGraph() {
    }

    /** Views the source's weights: closing the tapped graph frees nothing; the source must stay open. */
    public static Graph of(Graph source) {
        GraphBuilder b = new GraphBuilder(source.name());
        source.inputs().forEach(v -> b.input(v.name(), v.shape()));
        source.initializers().forEach((name, t) -> b.initializer(name, Tensor.wrap(t.segment(), t.shape())));
        source.nodes().forEach(b::node);
        Set<String> outputs = new LinkedHashSet<>(source.outputs());
        for (Node n : source.nodes()) {
            for (String v : n.outputs()) {
                if (!v.isEmpty()) {
                    outputs.add(v);
                }
            }
        }
        outputs.forEach(b::output);
        return b.build();
    }
}
