package dev.kiln.optimize;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an optimized network must no longer hold, whether it came from a builder or an export. */
public final class FusionChecks {
    private FusionChecks() {
    }

    /** No batch-norm, Dropout or Identity left, and no activation node right after a conv or a Gemm. */
    public static void assertFused(Graph optimized, Map<String, Integer> opsAfter) {
        for (String gone : List.of("BatchNormalization", "Dropout", "Identity")) {
            assertFalse(opsAfter.containsKey(gone), gone + " left: " + opsAfter);
        }
        List<String> activationsAfterConvs = optimized.nodes().stream()
                .filter(n -> n.op() instanceof Activation)
                .filter(n -> optimized.producer(n.input(0)) instanceof Node p && (p.op() instanceof Conv || p.op() instanceof Gemm))
                .map(n -> n.name() + " after " + optimized.producer(n.input(0)).name())
                .toList();
        assertEquals(List.of(), activationsAfterConvs, "activations left right after a conv or Gemm");
    }

    /** The original had residual Adds and the optimized graph has none left. */
    public static void assertResidualAddsFused(Graph original, Graph optimized) {
        assertTrue(original.opCounts().getOrDefault("Add", 0) > 0, "the network has residual Adds");
        long adds = optimized.nodes().stream()
                .filter(n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.ADD).count();
        assertEquals(0, adds, "Add nodes left unfused: " + optimized.opCounts());
    }
}
