package dev.kiln.conformance.verify;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Compares every value of a graph, as the optimizer leaves it, computed by each backend on its
 * own with the reference backend's, and names the first node in execution order whose output
 * leaves its tolerance. Each backend compiles the same optimized graph; a node it cannot run
 * falls back (and is named) as in use. The graph is run with every value as an output (see
 * {@link TappedGraph}), so a value is compared exactly where it was computed, and once more as
 * it is, whose outputs must agree too (a fault that only shows when values stay inside a
 * partition is reported as a problem, with no divergent node).
 *
 * <p>A node the reference backend cannot run (an op with no reference kernel: an opaque node, or
 * a provided op whose provider gives none) is not verifiable: its values are not compared, and
 * the reference backend computes what follows it from the backend's own output of it
 * ({@link BackendVerdict#notVerifiable()}).
 *
 * <pre>{@code
 * Verification v = new LayerwiseVerifier(Engine.create()).verify(graph, inputs, List.of("cpu-simd"));
 * }</pre>
 */
public final class LayerwiseVerifier {
    private final Engine engine;

    /** @throws IllegalArgumentException if the engine has no available reference backend to compare with */
    public LayerwiseVerifier(Engine engine) {
        boolean hasReference = engine.backends().stream()
                .anyMatch(b -> b.id().equals(ReferenceBackend.ID) && b.available());
        if (!hasReference) {
            throw new IllegalArgumentException("verification compares with the '" + ReferenceBackend.ID
                    + "' backend, which this engine lacks");
        }
        this.engine = engine;
    }

    /** The graph the backends are compared on: the optimizer's output, or the graph itself when it cannot run. */
    public static OptimizationReport optimize(Graph graph) {
        return graph.hasFixedShapesBesidesBatch() ? new Optimizer().optimize(graph) : null;
    }

    /**
     * Verifies {@code backends} on {@code graph} with these inputs (by input name; the caller
     * keeps and closes them). A backend that is unknown, unavailable or fails to compile or run
     * gets a failing verdict that says so.
     */
    public Verification verify(Graph graph, Map<String, Tensor> inputs, List<String> backends) {
        OptimizationReport report = optimize(graph);
        Graph optimized = report == null ? graph : report.graph();
        try {
            return verifyAsWritten(optimized, inputs, backends);
        } finally {
            if (report != null) {
                report.graph().close();
            }
        }
    }

    /** As {@link #verify}, on {@code graph} exactly as written (the caller optimized it, or wants it so). */
    public Verification verifyAsWritten(Graph graph, Map<String, Tensor> inputs, List<String> backends) {
        List<Node> unverifiable = graph.nodes().stream().filter(LayerwiseVerifier::notVerifiable).toList();
        try (Graph tapped = TappedGraph.of(graph)) {
            List<BackendVerdict> verdicts = new ArrayList<>();
            int values;
            if (unverifiable.isEmpty()) {
                Map<String, Tensor> reference = runOn(ReferenceBackend.ID, tapped, inputs).outputs();
                try {
                    Expected expected = Expected.of(graph, inputs, reference);
                    for (String backend : backends) {
                        verdicts.add(verdict(backend, graph, tapped, inputs, actual -> expected, List.of()));
                    }
                    values = reference.size();
                } finally {
                    reference.values().forEach(Tensor::close);
                }
            } else {
                // The reference backend cannot run these nodes: each backend's own output of them
                // feeds the reference run of what follows, so the rest is still checked.
                List<Expected> made = new ArrayList<>();
                try {
                    for (String backend : backends) {
                        verdicts.add(verdict(backend, graph, tapped, inputs, actual -> {
                            Expected e = Expected.of(graph, inputs, referenceAfter(graph, inputs, actual, unverifiable));
                            made.add(e);
                            return e;
                        }, unverifiable.stream().map(Node::name).toList()));
                    }
                } finally {
                    made.forEach(e -> e.values().values().forEach(Tensor::close));
                }
                values = (int) graph.nodes().stream().filter(n -> !unverifiable.contains(n))
                        .flatMap(n -> n.outputs().stream()).filter(v -> !v.isEmpty()).count();
            }
            return new Verification(graph.name(), graph.nodes().size(), values, verdicts);
        }
    }

    /** A node the reference backend cannot run: an op with no reference kernel (an opaque or provided op). */
    public static boolean notVerifiable(Node n) {
        return n.op() instanceof ProvidedOp p && !p.hasReferenceKernel();
    }

    /** The reference values, with the shapes, tolerances and error scales they are compared with. */
    private record Expected(Map<String, Tensor> values, Map<String, Shape> shapes, Map<String, Tolerance> tolerances,
                            Map<String, Double> scales) {
        static Expected of(Graph graph, Map<String, Tensor> inputs, Map<String, Tensor> reference) {
            Map<String, Shape> shapes = new HashMap<>();
            inputs.forEach((k, t) -> shapes.put(k, t.shape()));
            graph.initializers().forEach((k, t) -> shapes.put(k, t.shape()));
            reference.forEach((k, t) -> shapes.put(k, t.shape()));
            return new Expected(reference, shapes, ValueTolerances.of(graph, shapes),
                    ValueTolerances.errorScales(graph, reference));
        }
    }

    /**
     * Every value of {@code graph} on the reference backend, where each node in {@code cut}
     * is replaced by the values the backend under test computed for it (copies, which the caller
     * closes with the rest): the graph without those nodes, their outputs made inputs.
     */
    private Map<String, Tensor> referenceAfter(Graph graph, Map<String, Tensor> inputs, Map<String, Tensor> actual,
                                               List<Node> cut) {
        Set<String> cutValues = new LinkedHashSet<>();
        cut.forEach(n -> n.outputs().stream().filter(v -> !v.isEmpty()).forEach(cutValues::add));
        GraphBuilder b = new GraphBuilder(graph.name());
        graph.inputs().forEach(v -> b.input(v.name(), v.shape()));
        cutValues.forEach(v -> b.input(v, actual.get(v).shape()));
        graph.initializers().forEach((name, t) -> b.initializer(name, Tensor.wrap(t.segment(), t.shape())));
        Set<String> outputs = new LinkedHashSet<>();
        for (Node n : graph.nodes()) {
            if (!cut.contains(n)) {
                b.node(n);
                n.outputs().stream().filter(v -> !v.isEmpty()).forEach(outputs::add);
            }
        }
        Map<String, Tensor> values = new HashMap<>();
        try {
            if (!outputs.isEmpty()) {
                outputs.forEach(b::output);
                Map<String, Tensor> feeds = new HashMap<>(inputs);
                cutValues.forEach(v -> feeds.put(v, actual.get(v)));
                try (Graph rest = b.build()) {
                    values.putAll(runOn(ReferenceBackend.ID, rest, feeds).outputs());
                }
            }
            for (String v : cutValues) {
                Tensor a = actual.get(v);
                values.put(v, Tensor.of(a.shape(), a.toFloatArray()));
            }
            return values;
        } catch (RuntimeException e) {
            values.values().forEach(Tensor::close);
            throw e;
        }
    }

    private BackendVerdict verdict(String backend, Graph graph, Graph tapped, Map<String, Tensor> inputs,
                                   Function<Map<String, Tensor>, Expected> expectedFor, List<String> notVerifiable) {
        List<String> problems = new ArrayList<>();
        Run run;
        try {
            run = runOn(backend, tapped, inputs);
        } catch (RuntimeException e) {
            problems.add("could not run on " + backend + ": " + e.getMessage());
            return new BackendVerdict(backend, false, Double.NaN, null, null, List.of(), List.of(), 0, problems,
                    List.of(), notVerifiable);
        }
        Map<String, Tensor> actual = run.outputs();
        try {
            Expected expected;
            try {
                expected = expectedFor.apply(actual);
            } catch (RuntimeException e) {
                problems.add("the reference run after the nodes it cannot run (" + notVerifiable + ") failed: "
                        + e.getMessage());
                return new BackendVerdict(backend, false, Double.NaN, null, null, List.of(), List.of(), 0, problems,
                        List.of(), notVerifiable);
            }
            Map<String, Tensor> reference = expected.values();
            Map<String, Shape> shapes = expected.shapes();
            Map<String, Tolerance> tolerances = expected.tolerances();
            Map<String, Double> scales = expected.scales();
            List<String> fallbacks = new ArrayList<>();
            int onBackend = 0;
            for (PlanReport.Placement p : run.placements()) {
                if (p.backend().equals(backend)) {
                    onBackend++;
                } else {
                    fallbacks.add(p.node());
                }
            }
            for (String skipped : run.skippedBackends()) {
                if (skipped.startsWith(backend + ":")) {
                    problems.add("the backend was skipped: " + skipped);
                }
            }
            List<ValueCheck> checks = new ArrayList<>();
            Map<String, ValueCheck> byValue = new HashMap<>();
            ValueCheck worst = null;
            ValueCheck first = null;
            for (Node n : graph.nodes()) {
                if (notVerifiable.contains(n.name())) {
                    continue; // its values are the backend's own: what follows is checked from them
                }
                List<Shape> inShapes = n.inputs().stream().map(v -> v.isEmpty() ? null : shapes.get(v)).toList();
                for (String v : n.outputs()) {
                    if (v.isEmpty()) {
                        continue;
                    }
                    Tolerance t = tolerances.get(v);
                    Tolerance.Comparison c = t.compare(actual.get(v).toFloatArray(), reference.get(v).toFloatArray(),
                            scales.getOrDefault(v, 0.0));
                    ValueCheck check = new ValueCheck(n.name(), n.op().type(), v, inShapes, shapes.get(v), c, t);
                    checks.add(check);
                    byValue.put(v, check);
                    if (worst == null || check.relativeError() > worst.relativeError()) {
                        worst = check;
                    }
                    if (first == null && !check.passed()) {
                        first = check;
                    }
                }
            }
            List<ValueCheck> feeding = new ArrayList<>();
            if (first != null) {
                String firstNode = first.node();
                for (Node n : graph.nodes()) {
                    if (n.name().equals(firstNode)) {
                        for (String in : n.inputs()) {
                            ValueCheck c = byValue.get(in);
                            if (c != null && c.passed() && !feeding.contains(c)) {
                                feeding.add(c);
                            }
                        }
                    }
                }
            }
            if (first == null) {
                problems.addAll(plainRunDifferences(backend, graph, inputs, reference, tolerances, scales));
            }
            boolean passed = first == null && problems.isEmpty();
            return new BackendVerdict(backend, passed, worst == null ? 0 : worst.relativeError(), worst, first,
                    feeding, fallbacks, onBackend, problems, checks, notVerifiable);
        } finally {
            actual.values().forEach(Tensor::close);
        }
    }

    /**
     * The graph's outputs from a run of the graph itself, as it runs in use: the tapped run makes
     * every value leave its partition, which changes the memory plan (no value shares a buffer,
     * nothing runs in place), so a fault there would not show in the tapped values.
     */
    private List<String> plainRunDifferences(String backend, Graph graph, Map<String, Tensor> inputs,
                                             Map<String, Tensor> reference, Map<String, Tolerance> tolerances,
                                             Map<String, Double> scales) {
        List<String> differences = new ArrayList<>();
        Map<String, Tensor> outputs;
        try {
            outputs = runOn(backend, graph, inputs).outputs();
        } catch (RuntimeException e) {
            return List.of("the model's own run (values not captured) failed on " + backend + ": " + e.getMessage());
        }
        try {
            for (String o : graph.outputs()) {
                Tolerance t = tolerances.get(o);
                if (t == null || !reference.containsKey(o)) {
                    continue; // an output that no node computes (a graph input passed through)
                }
                Tolerance.Comparison c = t.compare(outputs.get(o).toFloatArray(), reference.get(o).toFloatArray(),
                        scales.getOrDefault(o, 0.0));
                if (!c.passed()) {
                    differences.add("output '" + o + "' of the model's own run (values not captured) is out of"
                            + " tolerance although every captured value is in it: a fault inside a partition"
                            + " (buffer reuse, in-place execution); " + c);
                }
            }
            return differences;
        } finally {
            outputs.values().forEach(Tensor::close);
        }
    }

    /** One run: the outputs (the caller closes them), where each node ran, and the backends skipped with why. */
    private record Run(Map<String, Tensor> outputs, List<PlanReport.Placement> placements,
                       List<String> skippedBackends) {
    }

    /** Runs {@code graph} as written on one backend. */
    private Run runOn(String backend, Graph graph, Map<String, Tensor> inputs) {
        try (CompiledModel model = engine.compile(graph, new CompileOptions(backend, false))) {
            Map<String, Tensor> out = model.run(inputs);
            if (!graph.hasFixedShapesBesidesBatch() || graph.inputs().isEmpty()) {
                // The plan is keyed by the concrete shapes; only a batch can be asked for by number.
                return new Run(out, List.of(), List.of());
            }
            Tensor first = inputs.get(graph.inputs().getFirst().name());
            PlanReport plan = model.planForBatch(first.shape().rank() == 0 ? 1 : first.shape().dim(0));
            return new Run(out, plan.placements(), plan.skippedBackends());
        }
    }
}
