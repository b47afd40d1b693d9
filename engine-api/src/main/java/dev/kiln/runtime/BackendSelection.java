package dev.kiln.runtime;

import dev.kiln.Engine;
import dev.kiln.graph.Graph;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Backend;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Which backend a model runs on and in which order the others are tried for nodes it cannot
 * run. The rule, for {@code auto}: the highest-ranked available backend that supports every
 * node of the graph; if none does, the one that supports the most nodes (ties by rank). An
 * explicit choice always wins. Fallbacks follow by rank, so the reference backend comes last.
 */
public record BackendSelection(String requested, Backend chosen, List<BackendRegistry.Entry> order, String explanation) {

    /**
     * @param contexts the compile context each backend sees (its device, the engine's threads and kernels)
     */
    public static BackendSelection select(BackendRegistry registry, Graph graph, String requested,
                                          Function<Backend, CompileContext> contexts) {
        Backend chosen;
        String why;
        if (requested.equals(Engine.AUTO) && !graph.hasFixedShapesBesidesBatch()) {
            chosen = registry.defaultChoice().backend();
            why = "auto chose '" + chosen.id() + "', the highest-ranked available backend (the input shapes are"
                    + " symbolic beyond the batch, so coverage of the graph could not be checked)";
        } else if (requested.equals(Engine.AUTO)) {
            List<BackendRegistry.Entry> available = registry.available();
            List<BoundNode> nodes = ExecutionPlan.bind(graph, graph.inferShapes(graph.inputShapesForBatch(1)));
            Backend best = null;
            int bestCount = -1;
            StringBuilder considered = new StringBuilder();
            for (BackendRegistry.Entry e : available) {
                int count = supportedCount(e.backend(), nodes, contexts.apply(e.backend()));
                considered.append(considered.isEmpty() ? "" : ", ").append(e.id()).append(" rank ")
                        .append(e.backend().rank()).append(" runs ").append(count).append('/')
                        .append(graph.nodes().size());
                if (count > bestCount) {
                    best = e.backend();
                    bestCount = count;
                }
            }
            chosen = best;
            why = "auto chose '" + chosen.id() + "': the highest-ranked available backend "
                    + (bestCount == graph.nodes().size() ? "that runs every node" : "with the most supported nodes")
                    + " (" + considered + ")";
            List<String> unavailable = registry.entries().stream().filter(e -> !e.available())
                    .map(e -> e.id() + ": " + e.availability().reason()).toList();
            if (!unavailable.isEmpty()) {
                why += "; unavailable: " + String.join("; ", unavailable);
            }
        } else {
            chosen = registry.require(requested).backend();
            why = "'" + requested + "' was asked for explicitly";
        }
        // Fallbacks in rank order, their availability probed only if a node needs one.
        List<BackendRegistry.Entry> order = new ArrayList<>();
        for (BackendRegistry.Entry e : registry.entries()) {
            if (e.backend() == chosen) {
                order.addFirst(e);
            } else {
                order.add(e);
            }
        }
        return new BackendSelection(requested, chosen, List.copyOf(order), why);
    }

    /**
     * How much of a bound graph a backend runs.
     *
     * @param firstRefusal the first node it refuses and why; null when it runs them all
     */
    public record Coverage(int supported, int total, String firstRefusal) {
        public boolean complete() {
            return supported == total;
        }
    }

    public static Coverage coverage(Backend b, List<BoundNode> nodes, CompileContext context) {
        int count = 0;
        String refusal = null;
        for (BoundNode n : nodes) {
            var s = Placer.supports(b, n, context);
            if (s.supported()) {
                count++;
            } else if (refusal == null) {
                refusal = n.node().describe() + ": " + s.reason();
            }
        }
        return new Coverage(count, nodes.size(), refusal);
    }

    private static int supportedCount(Backend b, List<BoundNode> nodes, CompileContext context) {
        int count = 0;
        for (BoundNode n : nodes) {
            if (Placer.supports(b, n, context).supported()) {
                count++;
            }
        }
        return count;
    }
}
