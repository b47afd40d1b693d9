package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.conformance.fuzz.CaseChecker;
import dev.kiln.conformance.fuzz.CaseResult;
import dev.kiln.conformance.fuzz.CaseRunner;
import dev.kiln.conformance.fuzz.FuzzOptions;
import dev.kiln.conformance.fuzz.FuzzReport;
import dev.kiln.conformance.fuzz.Fuzzer;
import dev.kiln.conformance.fuzz.GraphRecipe;
import dev.kiln.conformance.fuzz.FuzzTargets;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code kiln fuzz}: generated graphs through every chosen backend against the reference backend,
 * and through the optimizer against the unoptimized graph (see {@link Fuzzer}); each new kind of
 * failure shrunk and written as a replayable folder. Exit status 1 when something was found.
 * Its JSON keys are a contract for scripts; keys are only ever added.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = {"Generate random valid graphs and compare every chosen backend with the reference backend,"
                + " and the optimized graph with the unoptimized one; shrink each failure and write it as"
                + " DIR/<case>/model.onnx with its inputs and the command that replays it.",
                "Exit status 1 when a finding was made."})
final class FuzzCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--backends", paramLabel = "ID[,ID...]|all", defaultValue = "all",
            description = "Backends to fuzz, comma-separated, or all (every available one; default). 'reference'"
                    + " fuzzes the optimizer: optimized against unoptimized, on the reference backend.")
    String backends;

    @Option(names = "--seconds", paramLabel = "N", description = "Run for N seconds.")
    Double seconds;

    @Option(names = "--cases", paramLabel = "N", description = "Run N generated graphs (default 100 when"
            + " --seconds is not given).")
    Long cases;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "The run's seed: case i of seed S"
            + " is always the same graph (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-nodes", paramLabel = "K", defaultValue = "12",
            description = "The most ONNX nodes in a graph (default ${DEFAULT-VALUE}).")
    int maxNodes;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "fuzz-findings",
            description = "Where findings are written, a folder per finding (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--shrink-runs", paramLabel = "N", defaultValue = "300",
            description = "The most candidate graphs shrinking one finding runs (default ${DEFAULT-VALUE}).")
    int shrinkRuns;

    @Option(names = "--in-process", description = "Run native backends in this JVM instead of one worker JVM per"
            + " backend (faster to start; a native crash then ends the run).")
    boolean inProcess;

    @Option(names = "--replay", paramLabel = "CASE_DIR", description = "Run a written finding's check again"
            + " (its recipe.txt) and say whether it still fails.")
    Path replay;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Engine engine = Engine.create();
        if (replay != null) {
            return replay(engine);
        }
        if (seconds != null && seconds <= 0) {
            throw new ParameterException(spec.commandLine(), "--seconds must be positive, got " + seconds);
        }
        if (cases != null && cases <= 0) {
            throw new ParameterException(spec.commandLine(), "--cases must be positive, got " + cases);
        }
        if (maxNodes < 1) {
            throw new ParameterException(spec.commandLine(), "--max-nodes must be at least 1, got " + maxNodes);
        }
        long count = cases != null ? cases : seconds != null ? 0 : 100;
        FuzzOptions options = new FuzzOptions(seed, count, seconds == null ? 0 : seconds, maxNodes, out, shrinkRuns);
        List<String> ids = chooseBackends(engine);
        PrintWriter err = spec.commandLine().getErr();
        try (FuzzTargets targets = FuzzTargets.open(engine, ids, !inProcess)) {
            FuzzReport report = new Fuzzer(options, targets.runners(), line -> {
                err.println("kiln fuzz: " + line);
                err.flush();
            }).run();
            print(report);
            return report.passed() ? 0 : 1;
        }
    }

    private Integer replay(Engine engine) throws IOException {
        Path file = replay.resolve("recipe.txt");
        if (!Files.isRegularFile(file)) {
            throw new ParameterException(spec.commandLine(), "--replay wants a finding's folder holding recipe.txt;"
                    + " there is no " + file);
        }
        List<String> lines = Files.readAllLines(file);
        if (lines.size() < 2) {
            throw new ParameterException(spec.commandLine(), file + " must hold the target and the recipe, one a line");
        }
        String target = lines.get(0).trim();
        GraphRecipe recipe;
        try {
            recipe = GraphRecipe.parse(lines.get(1));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), file + ": " + e.getMessage());
        }
        String backend = target.equals(CaseChecker.OPTIMIZER) ? ReferenceBackend.ID : target;
        try (FuzzTargets targets = FuzzTargets.open(engine, List.of(backend), !inProcess)) {
            CaseRunner runner = targets.runners().get(target);
            CaseResult r = runner.check(recipe, target);
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                Json.print(o, r);
            } else {
                o.printf(Locale.ROOT, "%s on %s: %s%s%n", replay, target, r.verdict(), r.message().isEmpty() ? ""
                        : ": " + r.message());
                o.flush();
            }
            return r.verdict().isFinding() ? 1 : 0;
        }
    }

    private List<String> chooseBackends(Engine engine) {
        List<String> known = engine.backends().stream().map(Engine.BackendInfo::id).toList();
        if (backends.equals("all")) {
            return engine.backends().stream().filter(Engine.BackendInfo::available).map(Engine.BackendInfo::id)
                    .toList();
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

    private void print(FuzzReport r) {
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            Json.print(o, r);
            return;
        }
        o.printf(Locale.ROOT, "seed %d: %d graphs, %d nodes, in %.1f s%n", r.seed(), r.cases(), r.nodes(), r.seconds());
        o.printf(Locale.ROOT, "ops (%d of %d the importer converts): %s%n", r.ops().size(), Fuzzer.IMPORTED_OPS.size(),
                counts(r.ops()));
        if (!r.opsMissing().isEmpty()) {
            o.printf(Locale.ROOT, "ops never generated: %s%n", String.join(", ", r.opsMissing()));
        }
        o.printf(Locale.ROOT, "%n%-12s %8s %10s %9s%n", "target", "checks", "cases/min", "failures");
        for (FuzzReport.TargetReport t : r.targets()) {
            int failed = t.failures().values().stream().mapToInt(Integer::intValue).sum();
            o.printf(Locale.ROOT, "%-12s %8d %10.0f %9d%s%n", t.target(), t.checks(), t.casesPerMinute(), failed,
                    failed == 0 ? "" : "  " + counts(t.failures()));
        }
        for (FuzzReport.TargetReport t : r.targets()) {
            o.printf(Locale.ROOT, "%nforms run by %s (%d): %s%n", t.target(), t.forms().size(), counts(t.forms()));
        }
        if (r.findings().isEmpty()) {
            o.printf(Locale.ROOT, "%nno findings%n");
        } else {
            o.printf(Locale.ROOT, "%n%d finding(s):%n", r.findings().size());
            for (FuzzReport.Finding f : r.findings()) {
                o.printf(Locale.ROOT, "  %s: %s %s%s, shrunk from %d to %d node(s)%n    %s%n", f.caseName(), f.target(),
                        f.verdict(), f.op() == null ? "" : " at " + f.op(), f.original(), f.nodes(), f.message());
                if (f.written() != null) {
                    o.printf(Locale.ROOT, "    %s%n", f.written());
                }
            }
        }
        o.flush();
    }

    private static String counts(Map<String, Integer> m) {
        StringBuilder s = new StringBuilder();
        m.forEach((k, v) -> s.append(s.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
        return s.toString();
    }
}
