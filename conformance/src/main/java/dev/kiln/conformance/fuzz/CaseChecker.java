package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.verify.BackendVerdict;
import dev.kiln.conformance.verify.LayerwiseVerifier;
import dev.kiln.conformance.verify.OptimizerVerifier;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The differential checks of one generated graph, in this process: the ONNX model is written,
 * imported, optimized, and then either verified value by value on a backend against the
 * reference backend ({@link LayerwiseVerifier}, its per-value tolerances), or its optimized form
 * run against its unoptimized form, both on the reference backend, with the tolerance of each
 * output that {@link ValueTolerances} gives the unoptimized graph.
 */
public final class CaseChecker {
    /** The target name of the optimizer check. */
    public static final String OPTIMIZER = "optimizer";

    private final Engine engine;
    private final Optimizer optimizer;
    private final Path scratch;

    /**
     * @param engine    has the reference backend and the backends to check
     * @param optimizer the optimizer under test (the standard one, or one with a pass to test)
     * @param scratch   a folder for the model files written on the way
     */
    public CaseChecker(Engine engine, Optimizer optimizer, Path scratch) {
        this.engine = engine;
        this.optimizer = optimizer;
        this.scratch = scratch;
    }

    /** Checks {@code target} (a backend id or {@link #OPTIMIZER}) on the recipe's graph. */
    public CaseResult check(GraphRecipe recipe, String target) {
        List<String> ops = recipe.nodes().stream().map(FuzzNode::op).distinct().sorted().toList();
        int count = recipe.nodes().size();
        try (RecipeMaterializer.Materialized m = RecipeMaterializer.materialize(recipe)) {
            Graph graph;
            try {
                graph = load(m);
            } catch (RuntimeException e) {
                return new CaseResult(target, CaseResult.Verdict.FAILED, "import", "the importer refused a valid"
                        + " graph: " + e, ops, List.of(), count);
            }
            try (graph) {
                Map<String, Tensor> inputs = Map.of(RecipeMaterializer.INPUT, m.input());
                OptimizationReport report;
                try {
                    report = optimizer.optimize(graph);
                } catch (RuntimeException e) {
                    return new CaseResult(target, CaseResult.Verdict.FAILED, "optimize", "the optimizer threw: " + e,
                            ops, List.of(), count);
                }
                try (Graph optimized = report.graph()) {
                    return target.equals(OPTIMIZER) ? optimizerCheck(graph, optimized, inputs, ops, count)
                            : backendCheck(target, optimized, inputs, ops, count);
                }
            }
        }
    }

    private Graph load(RecipeMaterializer.Materialized m) {
        try {
            Path file = Files.createTempFile(scratch, "case", ".onnx");
            try {
                try (var out = Files.newOutputStream(file)) {
                    m.model().writeTo(out);
                }
                return OnnxImporter.load(file);
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing a generated model under " + scratch, e);
        }
    }

    private CaseResult backendCheck(String backend, Graph optimized, Map<String, Tensor> inputs, List<String> ops,
                                    int count) {
        BackendVerdict v;
        try {
            v = new LayerwiseVerifier(engine).verifyAsWritten(optimized, inputs, List.of(backend)).verdicts()
                    .getFirst();
        } catch (RuntimeException e) {
            return new CaseResult(backend, CaseResult.Verdict.FAILED, null, "verification threw: " + e, ops,
                    List.of(), count);
        }
        Set<String> fellBack = new HashSet<>(v.fallbackNodes());
        Set<String> forms = new TreeSet<>();
        for (Node n : optimized.nodes()) {
            if (!fellBack.contains(n.name())) {
                forms.add(form(optimized, n));
            }
        }
        if (v.passed()) {
            return new CaseResult(backend, CaseResult.Verdict.PASSED, null, "", ops, List.copyOf(forms), count);
        }
        if (v.firstDivergent() != null) {
            Node at = optimized.nodes().stream().filter(n -> n.name().equals(v.firstDivergent().node())).findFirst()
                    .orElseThrow();
            return new CaseResult(backend, CaseResult.Verdict.DIVERGED, form(optimized, at), "first divergent node "
                    + v.firstDivergent().describe(), ops, List.copyOf(forms), count);
        }
        return new CaseResult(backend, CaseResult.Verdict.FAILED, null, String.join("; ", v.problems()), ops,
                List.copyOf(forms), count);
    }

    /** The optimized graph against the unoptimized one on the reference backend ({@link OptimizerVerifier}). */
    private CaseResult optimizerCheck(Graph graph, Graph optimized, Map<String, Tensor> inputs, List<String> ops,
                                      int count) {
        Set<String> forms = new TreeSet<>();
        optimized.nodes().forEach(n -> forms.add(form(optimized, n)));
        OptimizerVerifier.Verdict v;
        try {
            v = new OptimizerVerifier(engine, optimizer).compare(graph, optimized, inputs);
        } catch (RuntimeException e) {
            return new CaseResult(OPTIMIZER, CaseResult.Verdict.FAILED, null, "the unoptimized graph does not run on"
                    + " the reference backend: " + e, ops, List.copyOf(forms), count);
        }
        return switch (v.status()) {
            case PASSED -> new CaseResult(OPTIMIZER, CaseResult.Verdict.PASSED, null, "", ops, List.copyOf(forms),
                    count);
            case FAILED -> new CaseResult(OPTIMIZER, CaseResult.Verdict.FAILED, null, v.message(), ops,
                    List.copyOf(forms), count);
            case DIVERGED -> {
                Node at = optimized.nodes().stream().filter(n -> n.name().equals(v.node())).findFirst().orElseThrow();
                String form = form(optimized, at);
                yield new CaseResult(OPTIMIZER, CaseResult.Verdict.DIVERGED, form, "value '" + v.value()
                        + "' (written by " + v.node() + ", " + form + ") of the optimized graph differs from the"
                        + " unoptimized graph's on the reference backend: " + v.comparison(), ops, List.copyOf(forms),
                        count);
            }
        };
    }

    /**
     * A node's form for coverage: its op type, with a convolution's or Gemm's epilogue in order
     * ({@code FusedConv(add+relu)}) and a depthwise convolution marked.
     */
    static String form(Graph graph, Node n) {
        List<PostOp> post = switch (n.op()) {
            case Conv c -> c.postOps();
            case Gemm g -> g.postOps();
            default -> List.of();
        };
        StringBuilder s = new StringBuilder(n.op().type());
        if (n.op() instanceof Conv c && c.groups() > 1) {
            Tensor w = graph.initializers().get(n.input(1));
            s.append(w != null && w.shape().dim(1) == 1 ? "/depthwise" : "/grouped");
        }
        if (!post.isEmpty()) {
            List<String> parts = new ArrayList<>();
            post.forEach(p -> parts.add(p instanceof PostOp.Activate a ? a.function().kind().name().toLowerCase()
                    : "add"));
            s.append('(').append(String.join("+", parts)).append(')');
        }
        return s.toString();
    }
}
