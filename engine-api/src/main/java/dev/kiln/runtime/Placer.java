package dev.kiln.runtime;

import dev.kiln.BackendUnavailableException;
import dev.kiln.KilnException;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Assigns each node to the first backend in a preference order that supports it: the chosen
 * backend, then the others by rank, the reference backend (rank 0) last. A fallback backend's
 * availability is probed only when a node needs it. A pinned node goes to its pinned backend or
 * nowhere: a pin that cannot be honoured is an error, never a fallback.
 */
final class Placer {
    private Placer() {
    }

    /** One node's backend and the reason, before partition numbers are known. */
    record Assignment(BoundNode node, Backend backend, String reason) {
    }

    static List<Assignment> assign(List<BoundNode> nodes, List<BackendRegistry.Entry> order,
                                   Function<Backend, CompileContext> contexts) {
        return assign(nodes, order, contexts, Map.of());
    }

    /** @param pins backend id by node name; every pinned node must run on its backend */
    static List<Assignment> assign(List<BoundNode> nodes, List<BackendRegistry.Entry> order,
                                   Function<Backend, CompileContext> contexts, Map<String, String> pins) {
        List<Assignment> out = new ArrayList<>(nodes.size());
        for (BoundNode n : nodes) {
            String pinned = pins.get(n.node().name());
            if (pinned != null) {
                out.add(new Assignment(n, pinnedBackend(n, pinned, order, contexts), "pinned to " + pinned));
                continue;
            }
            StringBuilder refusals = new StringBuilder();
            Assignment chosen = null;
            for (BackendRegistry.Entry e : order) {
                if (!e.available()) {
                    continue;
                }
                Support s = supports(e.backend(), n, contexts.apply(e.backend()));
                if (s.supported()) {
                    String reason = refusals.isEmpty() ? "chosen backend" : "fallback: " + refusals;
                    chosen = new Assignment(n, e.backend(), reason);
                    break;
                }
                if (!refusals.isEmpty()) {
                    refusals.append("; ");
                }
                refusals.append(e.id()).append(" cannot run it (").append(s.reason()).append(')');
            }
            if (chosen == null) {
                throw new KilnException(n.node().describe() + " cannot run on any backend: " + refusals);
            }
            out.add(chosen);
        }
        return out;
    }

    private static Backend pinnedBackend(BoundNode n, String id, List<BackendRegistry.Entry> order,
                                         Function<Backend, CompileContext> contexts) {
        BackendRegistry.Entry e = order.stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow(
                () -> new BackendUnavailableException(n.node().describe() + " is pinned to backend '" + id
                        + "', which is not one of " + order.stream().map(BackendRegistry.Entry::id).toList()));
        if (!e.available()) {
            throw new BackendUnavailableException(n.node().describe() + " is pinned to backend '" + id
                    + "', which is unavailable: " + e.availability().reason());
        }
        Support s = supports(e.backend(), n, contexts.apply(e.backend()));
        if (!s.supported()) {
            throw new KilnException(n.node().describe() + " is pinned to backend '" + id + "', which cannot run it: "
                    + s.reason());
        }
        return e.backend();
    }

    /**
     * The backend's answer for a node. A backend that throws instead of answering has a bug, and
     * treating the node as unsupported would hide it behind a quiet fallback: it is an error
     * naming the backend and the node.
     *
     * @throws KilnException when the backend's {@code supports} throws
     */
    static Support supports(Backend b, BoundNode n, CompileContext context) {
        try {
            Support s = b.supports(n, context);
            return s == null ? Support.no("no answer") : s;
        } catch (RuntimeException e) {
            throw new KilnException("backend '" + b.id() + "' failed while checking whether it can run "
                    + n.node().describe() + ": " + e, e);
        }
    }
}
