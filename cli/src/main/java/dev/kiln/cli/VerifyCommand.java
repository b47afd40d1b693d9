package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.Tolerance;
import dev.kiln.conformance.verify.BackendVerdict;
import dev.kiln.conformance.verify.FailureReducer;
import dev.kiln.conformance.verify.Reduction;
import dev.kiln.conformance.verify.LayerwiseVerifier;
import dev.kiln.conformance.verify.OptimizerVerifier;
import dev.kiln.conformance.verify.ValueCheck;
import dev.kiln.conformance.verify.Verification;
import dev.kiln.cli.report.VerifyPage;
import dev.kiln.graph.Graph;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.optimize.Optimizer;
import dev.kiln.reference.ReferenceBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code kiln verify}: every value of the optimized graph computed on each backend compared with
 * the reference backend's (see {@link LayerwiseVerifier}); the first node out of tolerance named.
 * Exit status 1 when a backend fails. With {@code --optimizer}, the optimizer instead: the
 * optimized graph against the unoptimized one on the reference backend ({@link OptimizerVerifier}).
 * Its JSON keys are a contract for scripts; keys are only ever added.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compare every layer's output on backends with the reference backend and name the first"
                + " node where a backend leaves the tolerance.",
                "Exit status 1 when a backend fails."})
final class VerifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "A model of the zoo (see 'kiln models') or an .onnx file.")
    String model;

    @Option(names = "--backends", paramLabel = "ID[,ID...]|all", defaultValue = "all",
            description = "Backends to verify, comma-separated, or all (every available one but the reference;"
                    + " default).")
    String backends;

    @Option(names = "--input", paramLabel = "[NAME=]FILE.npy",
            description = "An input as .npy; one per model input. Default: random normal(0, 1).")
    List<String> inputs;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size of random inputs (default 1).")
    Integer batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seed of the weights and the random input (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    @Option(names = "--optimizer",
            description = {"Check the optimizer instead of backends: the optimized graph against the unoptimized one,"
                    + " both on the reference backend, every value the two share compared with its tolerance; the"
                    + " first out of it names the rewritten node ('kiln fuzz' writes its optimizer findings with"
                    + " this command)."})
    boolean optimizer;

    @Option(names = "--reduce", paramLabel = "DIR",
            description = {"For each failing backend, shrink the model to the smallest graph that still fails there"
                    + " (the first divergent node alone with its inputs from the reference run, else it and the"
                    + " nodes it depends on) and write it as DIR/<backend>/model.onnx with its inputs as .npy,"
                    + " which 'kiln verify' and 'kiln run' take."})
    Path reduce;

    @Option(names = "--report", paramLabel = "FILE.html",
            description = "Also write a self-contained HTML report: each backend's relative error along the"
                    + " network against its tolerance, the first divergent node marked, fallback nodes shaded.")
    Path report;

    /** One backend's verdict as {@code --json} prints it. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record BackendReport(String backend, boolean passed, double maxRelError, NodeReport worstNode,
                         NodeReport firstDivergentNode, List<NodeReport> inputsInTolerance,
                         List<String> fallbackNodes, int nodesOnBackend, List<String> problems,
                         ReducedReport reduced, List<ValueRow> values, List<String> notVerifiable) {
    }

    /**
     * What {@code --reduce} wrote for a failing backend: the model file, its inputs by name, what it
     * keeps, and the command that checks it again.
     */
    record ReducedReport(String model, Map<String, String> inputs, String description, boolean stillFails,
                         String command) {
    }

    /**
     * One value along the network, in execution order: its error and tolerance relative to its scale,
     * whether it passed, and whether its node fell back to another backend.
     */
    record ValueRow(String node, String op, String value, double relError, double tolerance, boolean passed,
                    boolean fallback) {
    }

    /** A value of one node: where, its shapes, its error and the bound. */
    record NodeReport(String name, String op, String value, List<int[]> inputShapes, int[] shape,
                      double relError, double tolerance, int elementsOutside, int elements) {
        static NodeReport of(ValueCheck c) {
            if (c == null) {
                return null;
            }
            return new NodeReport(c.node(), c.op(), c.value(),
                    c.inputShapes().stream().map(s -> s == null ? null : s.dims()).toList(), c.shape().dims(),
                    finite(c.relativeError()), c.relativeTolerance(), c.comparison().elementsOutside(),
                    c.comparison().count());
        }
    }

    record Report(String model, int nodes, int values, boolean passed, List<BackendReport> backends) {
    }

    /**
     * {@code --optimizer}'s JSON: the status (PASSED, DIVERGED, FAILED), and where it diverged: the
     * value, the optimized graph's node that wrote it, its op, the error and the bound.
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record OptimizerReport(String model, boolean passed, String status, String value, String node, String op,
                           Double maxAbsError, Double bound, Integer elementsOutside, String message) {
    }

    @Override
    public Integer call() throws IOException {
        if (batch != null && batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        Engine engine = Engine.create();
        if (optimizer) {
            return verifyOptimizer(engine);
        }
        List<String> chosen = chooseBackends(engine);
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        try (Graph graph = source.build(seed);
             ModelInputs in = inputs != null
                     ? ModelInputs.fromFiles(graph, source.name(), inputs, batch, spec.commandLine())
                     : ModelInputs.random(graph, batch, seed, engine, spec.commandLine())) {
            Verification v = new LayerwiseVerifier(engine).verify(graph, in.tensors(), chosen);
            Map<String, ReducedReport> reduced = new LinkedHashMap<>();
            if (reduce != null) {
                for (BackendVerdict b : v.verdicts()) {
                    if (b.firstDivergent() != null) {
                        reduced.put(b.backend(), reduce(engine, graph, in.tensors(), b.backend()));
                    }
                }
            }
            print(engine, source.name(), v, reduced);
            return v.passed() ? 0 : 1;
        }
    }

    /** {@code --optimizer}: the model's optimized form against its unoptimized form on the reference backend. */
    private Integer verifyOptimizer(Engine engine) throws IOException {
        if (reduce != null || report != null || spec.commandLine().getParseResult().hasMatchedOption("--backends")) {
            throw new ParameterException(spec.commandLine(), "--optimizer checks the optimizer on the reference"
                    + " backend: it takes no --backends, --reduce or --report");
        }
        ModelSource source = ModelSource.resolve(model, spec.commandLine());
        try (Graph graph = source.build(seed);
             ModelInputs in = inputs != null
                     ? ModelInputs.fromFiles(graph, source.name(), inputs, batch, spec.commandLine())
                     : ModelInputs.random(graph, batch, seed, engine, spec.commandLine())) {
            OptimizerVerifier.Verdict v = new OptimizerVerifier(engine, new Optimizer()).verify(graph, in.tensors());
            Tolerance.Comparison c = v.comparison();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Json.print(out, new OptimizerReport(source.name(), v.passed(), v.status().name(), v.value(), v.node(),
                        v.op(), c == null ? null : finite(c.maxAbsError()), c == null ? null : c.bound(),
                        c == null ? null : c.elementsOutside(), v.message()));
            } else {
                out.printf(Locale.ROOT, "model %s: optimized against unoptimized on the reference backend: %s%s%n",
                        source.name(), v.status(), v.message().isEmpty() ? "" : "\n  " + v.message());
                out.flush();
            }
            return v.passed() ? 0 : 1;
        }
    }

    private List<String> chooseBackends(Engine engine) {
        List<String> known = engine.backendIds(); // not backends(): that would probe every one
        if (backends.equals("all")) {
            List<String> all = engine.backends().stream().filter(Engine.BackendInfo::available)
                    .map(Engine.BackendInfo::id).filter(id -> !id.equals(ReferenceBackend.ID)).toList();
            if (all.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "no backend but the reference one is available:"
                        + " nothing to verify (see 'kiln backends')");
            }
            return all;
        }
        List<String> ids = new ArrayList<>();
        for (String id : backends.split(",")) {
            String trimmed = id.trim();
            if (!known.contains(trimmed)) {
                throw new ParameterException(spec.commandLine(), "unknown backend '" + trimmed + "' in --backends;"
                        + " known backends: " + String.join(", ", known));
            }
            if (!ids.contains(trimmed)) {
                ids.add(trimmed);
            }
        }
        return ids;
    }

    /** Shrinks the failure on one backend and writes it; null when no smaller graph fails on its own. */
    private ReducedReport reduce(Engine engine, Graph graph, Map<String, Tensor> inputs, String backend)
            throws IOException {
        Optional<Reduction> found = new FailureReducer(engine).reduce(graph, inputs, backend);
        if (found.isEmpty()) {
            return null;
        }
        try (Reduction r = found.get()) {
            Path dir = reduce.resolve(OutputFileNames.of(List.of(backend)).get(backend).replaceAll("\\.npy$", ""));
            Files.createDirectories(dir);
            Path file = dir.resolve("model.onnx");
            OnnxExporter.write(r.graph(), file);
            Map<String, String> files = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : OutputFileNames.of(List.copyOf(r.inputs().keySet())).entrySet()) {
                Path npy = dir.resolve(e.getValue());
                Npy.write(npy, r.inputs().get(e.getKey()));
                files.put(e.getKey(), npy.toString());
            }
            StringBuilder command = new StringBuilder("kiln verify --model " + file + " --backends " + backend);
            files.forEach((name, npy) -> command.append(" --input ").append(name).append('=').append(npy));
            return new ReducedReport(file.toString(), files, r.description(), !r.verdict().passed(),
                    command.toString());
        }
    }

    private void print(Engine engine, String modelName, Verification v, Map<String, ReducedReport> reduced) {
        PrintWriter out = spec.commandLine().getOut();
        List<BackendReport> reports = v.verdicts().stream().map(b -> new BackendReport(b.backend(), b.passed(),
                finite(b.maxRelError()), NodeReport.of(b.worstNode()), NodeReport.of(b.firstDivergent()),
                b.inputsInTolerance().stream().map(NodeReport::of).toList(), b.fallbackNodes(), b.nodesOnBackend(),
                b.problems(), reduced.get(b.backend()), valueRows(b), b.notVerifiable())).toList();
        Report whole = new Report(modelName, v.nodes(), v.values(), v.passed(), reports);
        if (report != null) {
            VerifyPage.write(Json.tree(whole), Json.tree(Environment.probe(engine)), report);
        }
        if (json) {
            Json.print(out, whole);
            return;
        }
        out.printf(Locale.ROOT, "model %s: %d nodes after optimization, %d values compared with the reference"
                + " backend per backend%n", modelName, v.nodes(), v.values());
        int width = v.verdicts().stream().mapToInt(b -> b.backend().length()).max().orElse(0);
        for (BackendVerdict b : v.verdicts()) {
            out.printf(Locale.ROOT, "%n%-" + Math.max(10, width) + "s %s  (%d nodes on it%s)%n", b.backend(),
                    b.passed() ? "PASS" : "FAIL",
                    b.nodesOnBackend(), b.fallbackNodes().isEmpty() ? ""
                            : ", " + b.fallbackNodes().size() + " fell back: " + abbreviate(b.fallbackNodes()));
            for (String p : b.problems()) {
                out.printf(Locale.ROOT, "  problem: %s%n", p);
            }
            if (!b.notVerifiable().isEmpty()) {
                out.printf(Locale.ROOT, "  not verifiable (no reference kernel): %s; what follows is checked from"
                        + " this backend's own output of them%n", abbreviate(b.notVerifiable()));
            }
            if (b.worstNode() != null) {
                out.printf(Locale.ROOT, "  worst relative error %.3g at %s (%s), tolerance there %.3g%n",
                        b.maxRelError(), b.worstNode().node(), b.worstNode().op(),
                        b.worstNode().relativeTolerance());
            }
            if (b.firstDivergent() != null) {
                out.printf(Locale.ROOT, "  first divergent node: %s%n", b.firstDivergent().describe());
                for (ValueCheck c : b.inputsInTolerance()) {
                    out.printf(Locale.ROOT, "    fed by %s (%s) %s: relative error %.3g, within %.3g%n", c.node(),
                            c.op(), c.shape(), c.relativeError(), c.relativeTolerance());
                }
            }
            if (reduce != null && b.firstDivergent() != null) {
                ReducedReport r = reduced.get(b.backend());
                if (r == null) {
                    out.printf(Locale.ROOT, "  reduce: no smaller graph fails on its own%n");
                } else {
                    out.printf(Locale.ROOT, "  reduced to %s%n  wrote %s; again: %s%n", r.description(), r.model(),
                            r.command());
                }
            }
        }
        out.flush();
    }

    private static List<ValueRow> valueRows(BackendVerdict b) {
        java.util.Set<String> fallbacks = new java.util.HashSet<>(b.fallbackNodes());
        return b.checks().stream().map(c -> new ValueRow(c.node(), c.op(), c.value(), finite(c.relativeError()),
                c.relativeTolerance(), c.passed(), fallbacks.contains(c.node()))).toList();
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 8 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 8)) + ", ... (" + (names.size() - 8) + " more)";
    }

    /** JSON has no infinity: an error over a zero scale is written as the largest double. */
    private static double finite(double x) {
        return Double.isInfinite(x) ? Double.MAX_VALUE : x;
    }
}
