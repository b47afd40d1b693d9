package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.NodePlacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The check {@link CompileOptions#strict()} asks for: every node of a plan on the plan's own
 * backend and no backend dropped, else the plan is closed and compiling it fails, with each
 * fallback named. For services that would rather not start than run slowly on a fallback.
 */
final class StrictPlacement {
    private StrictPlacement() {
    }

    static void check(Graph graph, Map<String, Shape> shapes, ExecutionPlan plan) {
        List<String> problems = new ArrayList<>();
        for (String skipped : plan.skippedBackends()) {
            problems.add("backend dropped: " + skipped);
        }
        for (NodePlacement p : plan.placements()) {
            // A pinned node (a mixed plan's too) runs where it was put on purpose: not a fallback.
            if (!p.backend().equals(plan.primaryBackend()) && !p.reason().startsWith("pinned")) {
                problems.add("node '" + p.node() + "' (" + p.op() + ") on " + p.backend() + ": " + p.reason());
            }
        }
        if (!problems.isEmpty()) {
            plan.close();
            throw new KilnException("strict compilation of graph '" + graph.name() + "' at input shapes " + shapes
                    + " failed: " + problems.size() + " fallback" + (problems.size() == 1 ? "" : "s") + " from "
                    + plan.primaryBackend() + ": " + String.join("; ", problems));
        }
    }
}
