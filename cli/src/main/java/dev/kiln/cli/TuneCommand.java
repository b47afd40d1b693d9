package dev.kiln.cli;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.SelectionPolicy;
import dev.kiln.cache.TuningCache;
import dev.kiln.cli.report.TunePage;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.runtime.Selector;
import dev.kiln.selection.Selection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln tune}: measures auto's candidates for models ahead of time and fills the tuning
 * cache, so that a later start (a service's) chooses without measuring; or empties, exports or
 * imports that cache.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Measure which backend is fastest for models on this machine and remember it in the tuning"
                + " cache ($KILN_CACHE/selection), so that auto chooses without measuring later.",
                "A cached winner stays unless another backend beats it by more than 5%. The budget is 60 s per"
                        + " model and batch size unless --select-budget says otherwise.",
                "Without --model: the six representative models."})
final class TuneCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|FILE",
            description = "A model of the zoo or an .onnx file; repeatable.")
    List<String> models;

    @Option(names = "--batch", paramLabel = "N", split = ",",
            description = "Batch sizes to tune, repeatable or comma-separated (default 1).")
    List<Integer> batches;

    @Option(names = "--clear", description = "Empty the selection cache (before tuning, if models are given too).")
    boolean clear;

    @Option(names = "--export", paramLabel = "FILE", description = "Write the selection cache to FILE (after tuning).")
    Path exportTo;

    @Option(names = "--import", paramLabel = "FILE",
            description = "Add the entries of FILE (from --export on a machine of the same key) to the cache.")
    Path importFrom;

    @Option(names = "--json", description = "Print JSON on stdout.")
    boolean json;

    @Option(names = "--report", paramLabel = "FILE.html",
            description = "Also write a self-contained HTML report of the candidates per model and batch size.")
    Path report;

    /**
     * Tuning ahead of time can afford more than a first compile's 10 s: on a 2-core host VGG-16's
     * first runs alone took 9.9 s (cpu-simd, still JIT-compiling) and 9.8 s (onednn at batch 8),
     * so within 10 s a candidate was abandoned or timed cold.
     */
    static final Duration TUNE_BUDGET = Duration.ofSeconds(60);

    /** One model at one batch size: how auto chose. */
    record Tuned(String model, int batch, SelectionReport selection) {
    }

    /** What tune did: the cache folder, entries cleared or imported or exported, and the models tuned. */
    record Report(String cache, int cleared, int imported, int exported, List<Tuned> tuned) {
    }

    @Override
    public Integer call() {
        List<Integer> sizes = batches == null || batches.isEmpty() ? List.of(1) : batches;
        for (int b : sizes) {
            if (b < 1) {
                throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + b);
            }
        }
        EngineOptions options = EngineOptions.defaults().withSelection(SelectionPolicy.REMEASURE);
        if (!budgetConfigured()) {
            options = options.withSelectionBudget(TUNE_BUDGET);
        }
        if (options.cacheRoot() == null) {
            throw new KilnException("no cache folder: set KILN_CACHE");
        }
        TuningCache cache = TuningCache.open(options.cacheRoot(), Selector.CACHE_KIND);
        boolean onlyCacheWork = models == null && (clear || exportTo != null || importFrom != null);
        int cleared = 0;
        int imported = 0;
        int exported = 0;
        try {
            if (clear) {
                cleared = cache.clear();
                Selector.forgetRemembered();
            }
            if (importFrom != null) {
                imported = cache.importFrom(importFrom);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the tuning cache in " + cache.folder() + ": " + e.getMessage(), e);
        }
        List<Tuned> tuned = new ArrayList<>();
        PrintWriter out = spec.commandLine().getOut();
        Engine engine = Engine.create(options);
        if (!onlyCacheWork) {
            List<ModelSource> sources = models == null
                    ? Models.representatives().stream().map(ModelSource::fromZoo).toList()
                    : models.stream().map(m -> ModelSource.resolve(m, spec.commandLine())).toList();
            for (ModelSource source : sources) {
                try (Graph graph = source.build(0);
                     CompiledModel model = engine.compile(graph, Engine.AUTO)) {
                    for (int b : sizes) {
                        Selection s = model.selectionForBatch(b);
                        tuned.add(new Tuned(source.name(), b, SelectionReport.of(s)));
                        if (!json) {
                            out.printf(Locale.ROOT, "%s, batch %d: %s%n", source.name(), b, s.winner());
                            SelectionReport.of(s).printCandidates(out);
                            out.println();
                            out.flush();
                        }
                    }
                }
            }
        }
        try {
            if (exportTo != null) {
                exported = cache.exportTo(exportTo);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot export the tuning cache to " + exportTo + ": " + e.getMessage(), e);
        }
        Report result = new Report(String.valueOf(cache.folder()), cleared, imported, exported, tuned);
        if (report != null) {
            TunePage.write(Json.tree(result), Json.tree(Environment.probe(engine)), report);
        }
        if (json) {
            Json.print(out, result);
            return 0;
        }
        if (clear) {
            out.printf(Locale.ROOT, "cleared %d entries from %s%n", cleared, cache.folder());
        }
        if (importFrom != null) {
            out.printf(Locale.ROOT, "imported %d entries from %s into %s%n", imported, importFrom, cache.folder());
        }
        if (exportTo != null) {
            out.printf(Locale.ROOT, "exported %d entries from %s to %s%n", exported, cache.folder(), exportTo);
        }
        if (!tuned.isEmpty()) {
            out.printf(Locale.ROOT, "tuning cache: %s%n", cache.folder());
        }
        out.flush();
        return 0;
    }

    /** Whether --select-budget, its property or its environment variable set the budget. */
    private static boolean budgetConfigured() {
        String property = System.getProperty(EngineOptions.SELECT_BUDGET_PROPERTY);
        String env = System.getenv(EngineOptions.SELECT_BUDGET_ENV);
        return (property != null && !property.isBlank()) || (env != null && !env.isBlank());
    }
}
