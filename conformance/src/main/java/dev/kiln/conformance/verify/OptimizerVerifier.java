package dev.kiln.conformance.verify;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;

import java.util.HashMap;
import java.util.Map;

/**
 * The optimizer checked against itself: a graph's optimized form run against its unoptimized
 * form, both on the reference backend, every value captured ({@link TappedGraph}). The values the
 * optimized graph shares by name with the unoptimized one (a fused node writes the value of the
 * last node it replaced) are compared in the optimized graph's order, with the tolerance
 * {@link ValueTolerances} gives each value of the unoptimized graph, so the first one out of
 * tolerance names the rewritten node at fault rather than some node downstream of it. What
 * {@code kiln verify --optimizer} runs on a model file, and {@code kiln fuzz}'s optimizer check.
 */
public final class OptimizerVerifier {
    private final Engine engine;
    private final Optimizer optimizer;

    /**
     * @param engine    has the reference backend
     * @param optimizer the optimizer under test (the standard one, or one with a pass to test)
     */
    public OptimizerVerifier(Engine engine, Optimizer optimizer) {
        this.engine = engine;
        this.optimizer = optimizer;
    }

    /** How a check ended. */
    public enum Status {
        /** Every shared value within its tolerance. */
        PASSED,
        /** A shared value out of its tolerance: {@link Verdict#node()} wrote it. */
        DIVERGED,
        /** The optimizer threw, or the optimized graph does not run or lost an output. */
        FAILED
    }

    /**
     * The outcome: for {@link Status#DIVERGED} the value, the optimized graph's node that wrote it
     * (its name and op type) and the comparison; {@code message} says it all in a line.
     */
    public record Verdict(Status status, String value, String node, String op, Tolerance.Comparison comparison,
                          String message) {
        public boolean passed() {
            return status == Status.PASSED;
        }
    }

    /**
     * Optimizes {@code graph} (left as it is) and checks the result on {@code inputs}.
     *
     * @throws RuntimeException when the unoptimized graph itself does not run on the reference backend
     */
    public Verdict verify(Graph graph, Map<String, Tensor> inputs) {
        Graph optimized;
        try {
            optimized = optimizer.optimize(graph).graph();
        } catch (RuntimeException e) {
            return new Verdict(Status.FAILED, null, null, null, null, "the optimizer threw: " + e);
        }
        try (optimized) {
            return compare(graph, optimized, inputs);
        }
    }

    /**
     * Checks {@code optimized} against {@code graph}, its unoptimized form, on {@code inputs}.
     *
     * @throws RuntimeException when the unoptimized graph does not run on the reference backend
     */
    public Verdict compare(Graph graph, Graph optimized, Map<String, Tensor> inputs) {
        Map<String, Tensor> plain = null;
        Map<String, Tensor> rewritten = null;
        try (Graph tappedPlain = TappedGraph.of(graph); Graph tappedOptimized = TappedGraph.of(optimized)) {
            plain = run(tappedPlain, inputs);
            try {
                rewritten = run(tappedOptimized, inputs);
            } catch (RuntimeException e) {
                return new Verdict(Status.FAILED, null, null, null, null, "the optimized graph does not run on the"
                        + " reference backend: " + e);
            }
            Map<String, Shape> inputShapes = new HashMap<>();
            inputs.forEach((name, t) -> inputShapes.put(name, t.shape()));
            Map<String, Tolerance> tolerances = ValueTolerances.of(graph, graph.inferShapes(inputShapes));
            Map<String, Double> scales = ValueTolerances.errorScales(graph, plain);
            for (String o : graph.outputs()) {
                if (!rewritten.containsKey(o) && tolerances.containsKey(o)) {
                    return new Verdict(Status.FAILED, o, null, null, null, "the optimized graph lost output '" + o
                            + "'");
                }
            }
            for (Node n : optimized.nodes()) {
                for (String v : n.outputs()) {
                    Tolerance t = tolerances.get(v);
                    if (v.isEmpty() || t == null || !plain.containsKey(v) || !rewritten.containsKey(v)) {
                        continue;
                    }
                    Tolerance.Comparison c = t.compare(rewritten.get(v).toFloatArray(), plain.get(v).toFloatArray(),
                            scales.getOrDefault(v, 0.0));
                    if (!c.passed()) {
                        return new Verdict(Status.DIVERGED, v, n.name(), n.op().type(), c, "value '" + v
                                + "' (written by " + n.name() + ", " + n.op().type() + ") of the optimized graph"
                                + " differs from the unoptimized graph's on the reference backend: " + c);
                    }
                }
            }
            return new Verdict(Status.PASSED, null, null, null, null, "");
        } finally {
            closeAll(plain);
            closeAll(rewritten);
        }
    }

    private Map<String, Tensor> run(Graph graph, Map<String, Tensor> inputs) {
        try (CompiledModel model = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, false))) {
            return model.run(inputs);
        }
    }

    private static void closeAll(Map<String, Tensor> tensors) {
        if (tensors != null) {
            tensors.values().forEach(Tensor::close);
        }
    }
}
