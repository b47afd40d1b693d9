package dev.kiln.runtime;

import dev.kiln.BackendUnavailableException;
import dev.kiln.KilnException;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks placement pins when a model is compiled, before any plan: every pinned backend known
 * and available, every pinned node a node of the graph that runs. Whether the backend can run
 * the node depends on the shapes, so {@link Placer} checks that for each plan.
 */
public final class PinCheck {
    private PinCheck() {
    }

    /**
     * @param written  the graph as the caller gave it: a pinned name found there but not in
     *                 {@code runnable} was fused or removed by the optimizer, which the message says
     * @param runnable the graph that runs (the optimized one)
     * @throws BackendUnavailableException for an unknown or unavailable backend, naming the node and the backend
     * @throws KilnException               for a node the graph that runs does not have
     */
    public static void check(Map<String, String> pins, Graph written, Graph runnable, BackendRegistry registry) {
        Set<String> names = runnable.nodes().stream().map(Node::name).collect(Collectors.toSet());
        Set<String> writtenNames = written.nodes().stream().map(Node::name).collect(Collectors.toSet());
        List<String> missing = new ArrayList<>();
        for (var pin : pins.entrySet()) {
            String node = pin.getKey();
            String id = pin.getValue();
            BackendRegistry.Entry e = registry.entries().stream().filter(x -> x.id().equals(id)).findFirst()
                    .orElse(null);
            if (e == null) {
                throw new BackendUnavailableException("node '" + node + "' is pinned to unknown backend '" + id
                        + "'; known backends: " + String.join(", ", registry.entries().stream()
                        .map(BackendRegistry.Entry::id).toList()));
            }
            if (!e.available()) {
                throw new BackendUnavailableException("node '" + node + "' is pinned to backend '" + id
                        + "', which is not available: " + e.availability().reason());
            }
            if (!names.contains(node)) {
                missing.add(writtenNames.contains(node) ? "'" + node + "' (the optimizer fused or removed it: pin"
                        + " the node it was fused into)" : "'" + node + "'");
            }
        }
        if (!missing.isEmpty()) {
            throw new KilnException("pinned node" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing)
                    + (missing.size() == 1 ? " is" : " are") + " not in graph '" + runnable.name() + "' as it runs ("
                    + runnable.nodes().size() + " nodes, e.g. " + example(runnable) + "; 'kiln explain' lists them)");
        }
    }

    private static String example(Graph g) {
        return g.nodes().stream().limit(3).map(n -> "'" + n.name() + "'").collect(Collectors.joining(", "));
    }
}
