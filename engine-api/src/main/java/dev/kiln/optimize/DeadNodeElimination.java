package dev.kiln.optimize;

import dev.kiln.graph.Node;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Removes nodes none of whose outputs reach a graph output, then initializers no node reads
 * any more (the weights that folding replaced). Only removed nodes count as rewrites: dropping
 * an unread initializer changes no computation.
 */
public final class DeadNodeElimination implements Pass {

    @Override
    public String name() {
        return "dead-node-elimination";
    }

    @Override
    public int run(WorkingGraph graph) {
        List<Node> nodes = graph.nodes();
        Set<String> needed = new HashSet<>();
        for (Node n : nodes) {
            n.outputs().stream().filter(graph::isGraphOutput).forEach(needed::add);
        }
        int removed = 0;
        for (Node n : nodes.reversed()) {
            if (n.outputs().stream().anyMatch(needed::contains)) {
                needed.addAll(n.inputs());
            } else {
                graph.remove(n);
                removed++;
            }
        }
        for (String init : graph.initializerNames()) {
            if (!needed.contains(init) && !graph.isGraphOutput(init) && !graph.isGraphInput(init)) {
                graph.removeInitializer(init);
            }
        }
        return removed;
    }
}
