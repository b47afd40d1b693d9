package dev.kiln.runtime;

import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.Support;

import java.util.ArrayList;
import java.util.List;

/**
 * Assigns each node to the first backend in a preference order that supports it: the chosen
 * backend, then the others by rank, the reference backend (rank 0) last.
 */
final class Placer {
    private Placer() {
    }

    /** One node's backend and the reason, before partition numbers are known. */
    record Assignment(BoundNode node, Backend backend, String reason) {
    }

    static List<Assignment> assign(List<BoundNode> nodes, List<Backend> order) {
        List<Assignment> out = new ArrayList<>(nodes.size());
        for (BoundNode n : nodes) {
            StringBuilder refusals = new StringBuilder();
            Assignment chosen = null;
            for (Backend b : order) {
                Support s = supports(b, n);
                if (s.supported()) {
                    String reason = refusals.isEmpty() ? "chosen backend" : "fallback: " + refusals;
                    chosen = new Assignment(n, b, reason);
                    break;
                }
                if (!refusals.isEmpty()) {
                    refusals.append("; ");
                }
                refusals.append(b.id()).append(" cannot run it (").append(s.reason()).append(')');
            }
            if (chosen == null) {
                throw new dev.kiln.KilnException(n.node().describe() + " cannot run on any backend: " + refusals);
            }
            out.add(chosen);
        }
        return out;
    }

    static Support supports(Backend b, BoundNode n) {
        try {
            Support s = b.supports(n);
            return s == null ? Support.no("no answer") : s;
        } catch (RuntimeException e) {
            return Support.no("capability check failed: " + e);
        }
    }
}
