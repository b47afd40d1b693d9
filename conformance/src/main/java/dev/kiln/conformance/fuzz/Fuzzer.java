package dev.kiln.conformance.fuzz;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The fuzz loop: generates graph after graph ({@link RecipeGenerator}), checks each on every
 * target through its runner, and shrinks the first failure of each kind ({@link Shrinker}) before
 * writing it ({@link FindingWriter}). A failure of a kind already found (same target, verdict and
 * op) is counted, not shrunk again.
 */
public final class Fuzzer {
    /** Every ONNX op type the importer converts (the coverage the summary measures against). */
    public static final Set<String> IMPORTED_OPS = Set.of("Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
            "GlobalMaxPool", "Relu", "Sigmoid", "Tanh", "HardSwish", "LeakyRelu", "HardSigmoid", "Clip", "Add", "Sub",
            "Mul", "Div", "Max", "Min", "BatchNormalization", "LRN", "Gemm", "MatMul", "Softmax", "Concat", "Flatten",
            "Pad", "Dropout", "Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Shape", "Gather", "Cast",
            "Constant");

    private final FuzzOptions options;
    private final Map<String, CaseRunner> runners;
    private final Consumer<String> progress;

    /**
     * @param runners  per target (a backend's id, or {@link CaseChecker#OPTIMIZER}), where its checks run
     * @param progress receives a line per finding and per hundred cases
     */
    public Fuzzer(FuzzOptions options, Map<String, CaseRunner> runners, Consumer<String> progress) {
        if (runners.isEmpty()) {
            throw new IllegalArgumentException("nothing to fuzz: no target");
        }
        this.options = options;
        this.runners = new LinkedHashMap<>(runners);
        this.progress = progress;
    }

    public FuzzReport run() {
        long start = System.nanoTime();
        long deadline = options.seconds() > 0 ? start + (long) (options.seconds() * 1e9) : Long.MAX_VALUE;
        Map<String, Integer> ops = new TreeMap<>();
        Map<String, long[]> checks = new HashMap<>();
        Map<String, Map<String, Integer>> forms = new HashMap<>();
        Map<String, Map<String, Integer>> failures = new HashMap<>();
        Set<String> signatures = new TreeSet<>();
        List<FuzzReport.Finding> findings = new ArrayList<>();
        long cases = 0;
        long nodes = 0;
        for (long index = 0; (options.cases() == 0 || index < options.cases()) && System.nanoTime() < deadline;
             index++) {
            GraphRecipe recipe = RecipeGenerator.generate(options.seed(), index, options.maxNodes());
            cases++;
            nodes += recipe.nodes().size();
            recipe.nodes().stream().map(FuzzNode::op).distinct().forEach(op -> ops.merge(op, 1, Integer::sum));
            for (Map.Entry<String, CaseRunner> e : runners.entrySet()) {
                String target = e.getKey();
                long t0 = System.nanoTime();
                CaseResult r = e.getValue().check(recipe, target);
                long[] c = checks.computeIfAbsent(target, k -> new long[2]);
                c[0]++;
                c[1] += System.nanoTime() - t0;
                r.forms().forEach(f -> forms.computeIfAbsent(target, k -> new TreeMap<>()).merge(f, 1, Integer::sum));
                if (!r.verdict().isFinding()) {
                    continue;
                }
                failures.computeIfAbsent(target, k -> new TreeMap<>()).merge(r.op() == null ? r.verdict().name()
                        .toLowerCase() : r.op(), 1, Integer::sum);
                String signature = target + " " + r.verdict() + " " + CaseResult.opKind(r.op());
                if (signatures.add(signature)) {
                    findings.add(shrinkAndWrite(index, recipe, r, e.getValue()));
                }
            }
            if (cases % 100 == 0) {
                progress.accept(cases + " cases, " + findings.size() + " distinct findings");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<String> missing = IMPORTED_OPS.stream().filter(op -> !ops.containsKey(op)).sorted().toList();
        List<FuzzReport.TargetReport> targets = new ArrayList<>();
        for (String target : runners.keySet()) {
            long[] c = checks.getOrDefault(target, new long[2]);
            double s = c[1] / 1e9;
            targets.add(new FuzzReport.TargetReport(target, c[0], s, s == 0 ? 0 : c[0] * 60 / s,
                    forms.getOrDefault(target, Map.of()), failures.getOrDefault(target, Map.of())));
        }
        return new FuzzReport(options.seed(), cases, nodes, seconds, ops, missing, targets, findings);
    }

    private FuzzReport.Finding shrinkAndWrite(long index, GraphRecipe recipe, CaseResult failure, CaseRunner runner) {
        String target = failure.target();
        Shrinker.Shrunk shrunk = new Shrinker(candidate -> runner.check(candidate, target), options.shrinkRuns())
                .shrink(recipe, failure);
        String name = "case-" + options.seed() + "-" + index + "-" + target;
        String written = null;
        if (options.out() != null) {
            Path dir = options.out().resolve(name);
            written = runner.write(shrunk.recipe(), target, dir);
        }
        CaseResult r = shrunk.result();
        progress.accept("finding on " + target + ": " + r.verdict() + (r.op() == null ? "" : " at " + r.op())
                + ", shrunk from " + recipe.nodes().size() + " to " + shrunk.recipe().nodes().size() + " node(s) in "
                + shrunk.checks() + " runs: " + r.message() + (written == null ? "" : "\n  " + written));
        return new FuzzReport.Finding(name, target, r.verdict().name(), r.op(), r.message(),
                shrunk.recipe().nodes().size(), recipe.nodes().size(), shrunk.recipe().toLine(), written);
    }
}
