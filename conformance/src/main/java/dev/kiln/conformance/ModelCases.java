package dev.kiln.conformance;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whole networks as conformance cases: one representative of each family, at reduced cost.
 * A network whose layers are all convolutional up to a global pool accepts any resolution, so
 * it runs at half its declared resolution (a quarter of the work); one whose classifier fixes
 * the feature-map size (VGG's fully connected layer over 7x7x512) runs at its declared size.
 * Which of the two applies is found by shape inference, not by a list of family names, so a
 * new family needs no change here. The cases are compiled with the optimizer on, as in use, so
 * backends see the fused graph (convolutions with folded batch-norm, activation and residual
 * epilogues; fused squeeze-and-excitation blocks).
 */
public final class ModelCases {
    /** The weights' seed: every run and every backend sees the same network. */
    public static final long SEED = 20_251_127L;

    private ModelCases() {
    }

    /** One case per family, batch 1, at the reduced resolution each architecture allows. */
    public static List<Case> representatives() {
        return representatives(1);
    }

    /**
     * One case per family at this batch size, at the reduced resolution each architecture
     * allows: a backend whose kernels split work by batch (or lay images out side by side) is
     * checked beyond batch 1 this way.
     *
     * @throws IllegalArgumentException if {@code batch} is less than 1
     */
    public static List<Case> representatives(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        List<Case> cases = new ArrayList<>();
        for (ModelSpec spec : Models.representatives()) {
            cases.add(reduced(spec, batch));
        }
        return List.copyOf(cases);
    }

    /** A case at half the declared resolution if the architecture accepts it, else at the declared one. */
    public static Case reduced(ModelSpec spec, int batch) {
        try (Graph declared = spec.build(WeightInit.ZEROS)) {
            int half = spec.resolution() / 2;
            Graph smaller = withResolution(declared, half);
            return smaller != null ? of(spec, half, batch, toleranceFor(smaller))
                    : of(spec, spec.resolution(), batch, toleranceFor(declared));
        }
    }

    /**
     * A case for this network at this input resolution. Its tolerance is derived from the
     * network: its depth counted as the layers that reduce (convolutions and matrix products)
     * and its longest reduction; see {@link Tolerance#forNetwork}.
     *
     * @throws IllegalArgumentException if the architecture does not accept the resolution
     */
    public static Case of(ModelSpec spec, int resolution, int batch) {
        try (Graph declared = spec.build(WeightInit.ZEROS)) {
            return of(spec, resolution, batch, toleranceFor(requireResolution(declared, resolution)));
        }
    }

    private static Case of(ModelSpec spec, int resolution, int batch, Tolerance tolerance) {
        String name = spec.name() + " at " + resolution + "x" + resolution + ", batch " + batch;
        return new Case(name, () -> {
            Graph declared = spec.build(SEED);
            try {
                // The returned graph shares the weights of the declared one; closing it frees them.
                return requireResolution(declared, resolution);
            } catch (RuntimeException e) {
                declared.close();
                throw e;
            }
        }, batch, -2, 2, tolerance, true);
    }

    /** The longest reduction is a node's multiply-accumulates per output element. */
    static Tolerance toleranceFor(Graph graph) {
        Map<String, Shape> shapes = graph.inferShapes(graph.inputShapesForBatch(1));
        long maxReduction = 1;
        int depth = 0;
        for (Node n : graph.nodes()) {
            List<Shape> in = n.inputs().stream().map(v -> v.isEmpty() ? null : shapes.get(v)).toList();
            List<Shape> out = n.outputs().stream().map(shapes::get).toList();
            long macs = n.op().macs(in, out);
            if (macs > 0) {
                depth++;
                maxReduction = Math.max(maxReduction, macs / out.getFirst().elementCount());
            }
        }
        return Tolerance.forNetwork(maxReduction, Math.max(depth, 1));
    }

    private static Graph requireResolution(Graph graph, int resolution) {
        Graph resized = withResolution(graph, resolution);
        if (resized == null) {
            throw new IllegalArgumentException("network '" + graph.name() + "' does not accept a " + resolution + "x"
                    + resolution + " input");
        }
        return resized;
    }

    /**
     * The same network with another declared input resolution, sharing the weights of
     * {@code graph} (closing either graph frees them); {@code graph} itself when the resolution
     * is its own; null when the architecture does not accept the resolution (a layer's shapes
     * no longer fit, such as a classifier that expects a fixed feature-map size). The parity
     * tests use it to run a builder's graph at the resolution of a reduced export.
     */
    public static Graph withResolution(Graph graph, int resolution) {
        boolean same = graph.inputs().stream()
                .allMatch(v -> v.shape().dim(2) == resolution && v.shape().dim(3) == resolution);
        if (same) {
            return graph;
        }
        GraphBuilder builder = new GraphBuilder(graph.name());
        for (ValueInfo v : graph.inputs()) {
            builder.input(v.name(), v.shape().withDim(2, resolution).withDim(3, resolution));
        }
        graph.initializers().forEach(builder::initializer);
        graph.nodes().forEach(builder::node);
        graph.outputs().forEach(builder::output);
        try {
            return builder.build();
        } catch (GraphValidationException e) {
            return null;
        }
    }
}
