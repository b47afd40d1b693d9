package dev.kiln.conformance.verify;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Shrinks a model that fails verification on a backend to a small graph that still fails there,
 * in the manner of Polygraphy's {@code debug reduce}. Candidates, smallest first:
 * <ol>
 *   <li>the first divergent node alone, its computed inputs made graph inputs holding the values
 *       the reference backend computed for them in the full model;</li>
 *   <li>the nodes that node depends on and the node itself, from the model's own inputs (for a
 *       fault that shows only in context: a partition boundary, a layout, memory reuse).</li>
 * </ol>
 * The first candidate whose verification still fails is returned; each is checked with
 * {@link LayerwiseVerifier#verifyAsWritten}, as the full model was, on the optimized graph.
 */
public final class FailureReducer {
    private final Engine engine;
    private final LayerwiseVerifier verifier;

    public FailureReducer(Engine engine) {
        this.engine = engine;
        this.verifier = new LayerwiseVerifier(engine);
    }

    /**
     * The smallest failing graph for {@code backend}, or empty when the model passes there or no
     * candidate fails on its own (the failure needs more of the model than the node's ancestors).
     */
    public Optional<Reduction> reduce(Graph graph, Map<String, Tensor> inputs, String backend) {
        OptimizationReport report = LayerwiseVerifier.optimize(graph);
        Graph optimized = report == null ? graph : report.graph();
        try {
            BackendVerdict full = verifier.verifyAsWritten(optimized, inputs, List.of(backend)).verdicts().getFirst();
            if (full.firstDivergent() == null) {
                return Optional.empty();
            }
            Node divergent = optimized.nodes().stream().filter(n -> n.name().equals(full.firstDivergent().node()))
                    .findFirst().orElseThrow();
            // The node alone needs its inputs from the reference backend, which cannot run a node
            // with no reference kernel upstream: then only its ancestors, run as the model runs, remain.
            boolean unverifiableUpstream = ancestorNodes(optimized, divergent).stream()
                    .anyMatch(LayerwiseVerifier::notVerifiable);
            List<Candidate> candidates = unverifiableUpstream ? List.of(ancestors(optimized, divergent, inputs))
                    : List.of(singleNode(optimized, divergent, inputs), ancestors(optimized, divergent, inputs));
            for (Candidate c : candidates) {
                BackendVerdict v = verifier.verifyAsWritten(c.graph(), c.inputs(), List.of(backend))
                        .verdicts().getFirst();
                if (!v.passed()) {
                    return Optional.of(new Reduction(backend, c.graph(), c.inputs(), c.description(), v));
                }
                c.close();
            }
            return Optional.empty();
        } finally {
            if (report != null) {
                report.graph().close();
            }
        }
    }

    private record Candidate(Graph graph, Map<String, Tensor> inputs, String description) {
        void close() {
            inputs.values().forEach(Tensor::close);
            graph.close();
        }
    }

    /** The node alone; its inputs that nodes compute are captured from a reference run of the model. */
    private Candidate singleNode(Graph graph, Node node, Map<String, Tensor> modelInputs) {
        Set<String> computed = new LinkedHashSet<>();
        for (String in : node.inputs()) {
            if (!in.isEmpty() && graph.producer(in) != null) {
                computed.add(in);
            }
        }
        Map<String, Tensor> captured = computed.isEmpty() ? new LinkedHashMap<>()
                : referenceValues(graph, node, computed, modelInputs);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        GraphBuilder b = new GraphBuilder(graph.name() + "-" + node.name());
        for (String in : new LinkedHashSet<>(node.inputs())) {
            if (in.isEmpty()) {
                continue;
            }
            Tensor value = captured.containsKey(in) ? captured.get(in) : modelInputs.get(in);
            if (value != null) {
                b.input(in, value.shape());
                inputs.put(in, captured.containsKey(in) ? value : value.copy());
            } else {
                b.initializer(in, graph.initializers().get(in).copy());
            }
        }
        b.node(node);
        node.outputs().stream().filter(o -> !o.isEmpty()).forEach(b::output);
        return new Candidate(b.build(), inputs, "node " + node.name() + " (" + node.op().type() + ") alone, its "
                + inputs.size() + " input(s) from the reference backend's run of the model");
    }

    /** The node and every node it depends on, from the model's own inputs. */
    private static Candidate ancestors(Graph graph, Node node, Map<String, Tensor> modelInputs) {
        List<Node> kept = ancestorNodes(graph, node);
        Set<String> read = new HashSet<>();
        kept.forEach(n -> read.addAll(n.inputs()));
        GraphBuilder b = new GraphBuilder(graph.name() + "-up-to-" + node.name());
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        graph.inputs().stream().filter(v -> read.contains(v.name())).forEach(v -> {
            b.input(v.name(), v.shape());
            inputs.put(v.name(), modelInputs.get(v.name()).copy());
        });
        graph.initializers().forEach((name, t) -> {
            if (read.contains(name) && !inputs.containsKey(name)) {
                b.initializer(name, t.copy());
            }
        });
        kept.forEach(b::node);
        node.outputs().stream().filter(o -> !o.isEmpty()).forEach(b::output);
        return new Candidate(b.build(), inputs, kept.size() + " nodes: " + node.name() + " and every node it"
                + " depends on");
    }

    private static List<Node> ancestorNodes(Graph graph, Node node) {
        Set<String> needed = new HashSet<>(node.inputs());
        List<Node> kept = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        for (int i = nodes.indexOf(node); i >= 0; i--) {
            Node n = nodes.get(i);
            if (n == node || n.outputs().stream().anyMatch(needed::contains)) {
                kept.addFirst(n);
                needed.addAll(n.inputs());
            }
        }
        return kept;
    }

    /** The values {@code wanted}, computed by the reference backend on the node's ancestors. */
    private Map<String, Tensor> referenceValues(Graph graph, Node node, Set<String> wanted,
                                                Map<String, Tensor> modelInputs) {
        List<Node> kept = ancestorNodes(graph, node);
        kept.removeLast();
        GraphBuilder b = new GraphBuilder(graph.name() + "-inputs-of-" + node.name());
        graph.inputs().forEach(v -> b.input(v.name(), v.shape()));
        graph.initializers().forEach((name, t) -> b.initializer(name, Tensor.wrap(t.segment(), t.shape())));
        kept.forEach(b::node);
        wanted.forEach(b::output);
        try (Graph upstream = b.build();
             CompiledModel model = engine.compile(upstream, new CompileOptions(ReferenceBackend.ID, false))) {
            Map<String, Tensor> out = model.run(modelInputs);
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            wanted.forEach(v -> ordered.put(v, out.get(v)));
            return ordered;
        }
    }
}
