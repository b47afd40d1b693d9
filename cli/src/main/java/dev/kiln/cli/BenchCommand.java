package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.KilnException;
import dev.kiln.RunProfile;
import dev.kiln.Tensor;
import dev.kiln.cli.report.BenchPage;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.Device;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.selection.Selection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code kiln bench}: latency and accuracy of models on backends. For each model, each backend
 * compiles it, warms up and is timed on one seeded input, and its last output is compared with
 * the reference backend's output on the same input (the oracle): the reference backend's first
 * output when it is benched too, else a run of its own.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time models on backends and check each backend's output against the reference backend's.",
                "Without options: the six representative models on every available backend, batch 1."})
final class BenchCommand implements Callable<Integer> {
    /** The reference backend is the oracle and is slow: fewer timed runs keep a full bench to minutes. */
    static final int REFERENCE_RUNS = 3;
    static final int RUNS = 5;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|FILE",
            description = "A model of the zoo or an .onnx file; repeatable. Default: one of each family.")
    List<String> models;

    @Option(names = "--backend", paramLabel = "ID",
            description = "Only this backend (or auto). Default: every available backend.")
    String backend;

    @Option(names = "--batch", paramLabel = "N", split = ",",
            description = "Batch size, repeatable or comma-separated (default 1); with several, the report draws"
                    + " images/s against batch size.")
    List<Integer> batches;

    @Option(names = "--runs", paramLabel = "N",
            description = "Timed runs per model and backend (default " + RUNS + ", " + REFERENCE_RUNS
                    + " on the reference backend).")
    Integer runs;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
            description = "Untimed runs before timing, at least (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-time", paramLabel = "SECONDS", defaultValue = "2",
            description = "Keep warming up until this much time has passed (default ${DEFAULT-VALUE}): a JIT-compiled"
                    + " backend such as cpu-simd reaches full speed only after its kernels have run a while.")
    double warmupSeconds;

    /** Warm-up runs at most, however fast a model is. */
    private static final int MAX_WARMUP_RUNS = 500;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "Seed of the weights and the input (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON on stdout (progress stays on stderr).")
    boolean json;

    @Option(names = "--report", paramLabel = "FILE.html",
            description = "Also write a self-contained HTML report: the environment, every run's latency as a"
                    + " distribution, images/s against batch size, the profile; with tables readable without"
                    + " JavaScript.")
    Path report;

    @Mixin
    PinOption pin = new PinOption();

    @Option(names = "--profile", paramLabel = "N", arity = "0..1", fallbackValue = "" + PROFILE_ROWS,
            description = "Also time every node (or partition, where a backend cannot tell nodes apart) over the timed"
                    + " runs and print the N slowest (default " + PROFILE_ROWS + "); with --json, every entry.")
    Integer profileRows;

    static final int PROFILE_ROWS = 15;

    /** With --profile, the machine peak of each backend. */
    private ProfilePeak.PerBackend peaks;

    /**
     * One model on one backend. The JSON keys are a contract for scripts: {@code model},
     * {@code backend}, {@code device}, {@code batch}, {@code runs}, {@code median_ms},
     * {@code min_ms}, {@code max_ms}, {@code images_per_s}, {@code max_rel_error}, and (added
     * later) {@code compile_ms}, {@code selected_backend}, {@code selection_ms} and {@code p90_ms}
     * (the 90th percentile of the runs, nearest rank), {@code p99_ms} and {@code run_ms} (every timed
     * run, in the order run).
     *
     * With {@code --profile}, {@code profile} lists where the time went (see {@link ProfileRow}),
     * {@code profile_classes} the same by class of layer ({@link ProfileClass}), {@code peak} what the
     * GFLOP/s are read against ({@link ProfilePeak}: the machine peak measured on the engine's threads, or
     * "no peak measured: why" for a backend whose device is not the host CPU) and
     * {@code peak_gflop_per_s} its figure, absent where there is none.
     *
     * @param backend       the backend asked for: an id, or {@code auto}
     * @param selectedBackend the backend that ran: the one asked for, or the one auto chose for this batch size
     * @param selectionMs   how long choosing took (auto measuring its candidates; 0 on a cache hit or by name), part of {@code compileMs}
     * @param fallbackNodes nodes the backend could not run, run by another backend instead
     * @param compileMs     compiling the model and its plan for this batch size (for opencl, with
     *                      the device program built, loaded from disk or reused: see {@code explain})
     */
    record Result(String model, String backend, String selectedBackend, String device, int batch, int runs, int warmup,
                  double medianMs, double minMs, double maxMs, double imagesPerS, double maxRelError, int fallbackNodes,
                  double compileMs, double selectionMs, double p90Ms, double p99Ms, double[] runMs,
                  @JsonInclude(JsonInclude.Include.NON_NULL) List<ProfileRow> profile,
                  @JsonInclude(JsonInclude.Include.NON_NULL) List<ProfileClass> profileClasses,
                  @JsonInclude(JsonInclude.Include.NON_NULL) String peak,
                  @JsonInclude(JsonInclude.Include.NON_NULL) Double peakGflopPerS) {
    }

    @Override
    public Integer call() {
        checkCounts();
        List<Integer> sizes = batchSizes();
        if (profileRows != null && profileRows < 1) {
            throw new ParameterException(spec.commandLine(), "--profile must be at least 1, got " + profileRows);
        }
        Engine engine = Engine.create();
        // Measured before any model runs, so that neither disturbs the other.
        peaks = profileRows == null ? null
                : ProfilePeak.PerBackend.of(engine, ProfilePeak.measure(engine.options().threads()));
        List<String> backendIds = backend == null
                ? engine.backends().stream().filter(Engine.BackendInfo::available).map(Engine.BackendInfo::id).toList()
                : List.of(BackendChoice.require(engine, backend, spec.commandLine()));
        List<ModelSource> sources = models == null
                ? Models.representatives().stream().map(ModelSource::fromZoo).toList()
                : models.stream().map(m -> ModelSource.resolve(m, spec.commandLine())).toList();

        PrintWriter err = spec.commandLine().getErr();
        List<Result> results = new ArrayList<>();
        boolean stackTraces = ErrorReporter.stackTracesWanted(spec.commandLine());
        boolean anyFailed = false;
        List<String> problems = new ArrayList<>();
        for (ModelSource source : sources) {
            // Reported after the model's progress bar is done, so that the two do not overwrite each other.
            for (Notice notice : benchModel(engine, source, backendIds, sizes, results)) {
                err.println("kiln: warning: " + notice.message());
                if (stackTraces && notice.cause() != null) {
                    notice.cause().printStackTrace(err);
                }
                anyFailed |= notice.failed();
                problems.add(notice.message());
            }
            err.flush();
        }
        print(results);
        if (report != null) {
            BenchPage.write(Json.tree(results), problems, Json.tree(Environment.probe(engine)), report);
        }
        return anyFailed ? ErrorReporter.RUNTIME : 0;
    }

    /** The --batch values in the order given, each once; 1 without the option. */
    private List<Integer> batchSizes() {
        if (batches == null || batches.isEmpty()) {
            return List.of(1);
        }
        for (int b : batches) {
            if (b < 1) {
                throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + b);
            }
        }
        return batches.stream().distinct().toList();
    }

    private void checkCounts() {
        if (runs != null && runs < 1) {
            throw new ParameterException(spec.commandLine(), "--runs must be at least 1, got " + runs);
        }
        if (warmupSeconds < 0 || Double.isNaN(warmupSeconds)) {
            throw new ParameterException(spec.commandLine(), "--warmup-time must not be negative, got " + warmupSeconds);
        }
        if (warmup < 0) {
            throw new ParameterException(spec.commandLine(), "--warmup must not be negative, got " + warmup);
        }
    }

    private int runsFor(String backendId) {
        return runs != null ? runs : backendId.equals(ReferenceBackend.ID) ? REFERENCE_RUNS : RUNS;
    }

    /**
     * Adds a result per backend that ran the model, and returns what went wrong: a backend that
     * failed (or the model, when it could not be built or run on the reference backend), or a
     * backend that was dropped while compiling so that other backends ran its nodes. A failing
     * backend does not stop the others.
     */
    private List<Notice> benchModel(Engine engine, ModelSource source, List<String> backendIds, List<Integer> sizes,
                                    List<Result> results) {
        // When the reference backend is benched it goes first and its first output is the oracle,
        // which saves a run of the slowest backend; otherwise the oracle is one run of its own.
        boolean referenceBenched = backendIds.contains(ReferenceBackend.ID);
        List<String> order = new ArrayList<>(backendIds);
        if (referenceBenched) {
            order.remove(ReferenceBackend.ID);
            order.addFirst(ReferenceBackend.ID);
        }
        long steps = 1 + sizes.size() * ((referenceBenched ? 0 : 1)
                + order.stream().mapToLong(id -> 1 + warmup + runsFor(id)).sum());
        List<Notice> notices = new ArrayList<>();
        List<Result> modelResults = new ArrayList<>();
        try (BenchProgress progress = new BenchProgress(spec.commandLine().getErr(), source.name(), steps);
             Graph graph = build(source, progress)) {
            for (int batch : sizes) {
                try (ModelInputs input = ModelInputs.random(graph, batch, seed, engine, spec.commandLine())) {
                    benchBatch(engine, source, graph, input, batch, order, referenceBenched, progress, modelResults,
                            notices);
                }
            }
        } catch (KilnException e) {
            notices.add(Notice.failure(source.name() + " skipped: " + e.getMessage(), e));
        }
        // By batch size as given, then by rank, the backend auto picks first, whatever order they ran in.
        modelResults.sort(Comparator.<Result>comparingInt(r -> sizes.indexOf(r.batch()))
                .thenComparingInt(r -> backendIds.indexOf(r.backend())));
        results.addAll(modelResults);
        return notices;
    }

    /** One batch size of a model on every backend; the first to fail of the reference backend stops the rest. */
    private void benchBatch(Engine engine, ModelSource source, Graph graph, ModelInputs input, int batch,
                            List<String> order, boolean referenceBenched, BenchProgress progress,
                            List<Result> modelResults, List<Notice> notices) {
        String what = source.name() + (batch == 1 ? "" : " at batch " + batch);
        float[] oracle = null;
        if (!referenceBenched) {
            progress.next("reference output");
            oracle = runOnce(engine, graph, input);
            progress.done();
        }
        for (String id : order) {
            try {
                Measurement m = measure(engine, graph, input, batch, id, progress);
                if (oracle == null) {
                    oracle = m.firstOutput();
                }
                modelResults.add(m.result(source.name(), deviceOf(engine, m.selected()), oracle, peaks));
                for (String skipped : m.skippedBackends()) {
                    notices.add(Notice.warning(what + " on " + id + ": a backend was dropped ("
                            + skipped + "); " + m.fallbackNodes() + " nodes ran on fallbacks"));
                }
            } catch (RuntimeException e) {
                notices.add(Notice.failure(what + " on " + id + " failed: " + ErrorReporter.describe(e), e));
                if (id.equals(ReferenceBackend.ID)) {
                    notices.add(Notice.failure(what + ": no reference output, the other backends were not run",
                            null));
                    return;
                }
            }
        }
    }

    /** Something to tell the user about a model or backend; {@code failed} when it gave no result. */
    private record Notice(String message, Exception cause, boolean failed) {
        static Notice failure(String message, Exception cause) {
            return new Notice(message, cause, true);
        }

        static Notice warning(String message) {
            return new Notice(message, null, false);
        }
    }

    private Graph build(ModelSource source, BenchProgress progress) {
        progress.next("building with seed " + seed);
        Graph graph = source.build(seed);
        progress.done();
        return graph;
    }

    private static float[] runOnce(Engine engine, Graph graph, ModelInputs input) {
        try (CompiledModel reference = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, null, true))) {
            return runAndRead(reference, input, true);
        }
    }

    /** One run; with {@code read}, its outputs {@link #concatenated}, else null. */
    private static float[] runAndRead(CompiledModel model, ModelInputs input, boolean read) {
        Map<String, Tensor> outputs = model.run(input.tensors());
        try {
            return read ? concatenated(outputs) : null;
        } finally {
            outputs.values().forEach(Tensor::close);
        }
    }

    /** Every output's values in graph output order, as one array: the error is taken over all of them. */
    private static float[] concatenated(Map<String, Tensor> outputs) {
        long total = outputs.values().stream().mapToLong(Tensor::elementCount).sum();
        float[] values = new float[Math.toIntExact(total)];
        int at = 0;
        for (Tensor t : outputs.values()) {
            int n = Math.toIntExact(t.elementCount());
            t.copyTo(0, values, at, n);
            at += n;
        }
        return values;
    }

    /** The timed runs of one backend, with its first and last outputs. */
    private record Measurement(String backend, String selected, int batch, int warmup, int fallbackNodes,
                               List<String> skippedBackends, long[] nanos, float[] firstOutput,
                               float[] lastOutput, double compileMs, double selectionMs,
                               List<ProfileRow> profile, ProfilePeak peak) {
        Result result(String model, String device, float[] oracle, ProfilePeak.PerBackend peaks) {
            Timings t = Timings.ofNanos(nanos);
            double[] runMs = new double[nanos.length];
            for (int i = 0; i < nanos.length; i++) {
                runMs[i] = roundMicros(nanos[i] / 1e6);
            }
            return new Result(model, backend, selected, device, batch, nanos.length, warmup, roundMicros(t.medianMs()),
                    roundMicros(t.minMs()), roundMicros(t.maxMs()),
                    Math.round(batch * 1000.0 / t.medianMs() * 100) / 100.0,
                    RelativeError.max(lastOutput, oracle), fallbackNodes, roundMicros(compileMs),
                    roundMicros(selectionMs), roundMicros(t.p90Ms()), roundMicros(t.p99Ms()), runMs, profile,
                    profile == null ? null : ProfileClass.of(profile, peaks), profile == null ? null : peak.description(),
                    profile == null ? null : peak.gflopPerS());
        }
    }

    private Measurement measure(Engine engine, Graph graph, ModelInputs input, int batch, String id,
                                BenchProgress progress) {
        int timedRuns = runsFor(id);
        progress.next(id + ": compiling");
        long compileStarted = System.nanoTime();
        try (CompiledModel compiled = engine.compile(graph, pin.applyTo(CompileOptions.defaults().withBackend(id)))) {
            compiled.planForBatch(batch); // the plan for this batch size is compiled here, not in the first run
            double compileMs = (System.nanoTime() - compileStarted) / 1e6;
            progress.done();
            float[] first = null;
            long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
            int warmupRuns = 0;
            for (int i = 1; i <= warmup; i++) {
                progress.next(id + ": warm-up " + i + "/" + warmup);
                float[] values = runAndRead(compiled, input, i == 1);
                first = i == 1 ? values : first;
                warmupRuns++;
                // The last counted warm-up run goes on until the warm-up time is over.
                while (i == warmup && System.nanoTime() < warmupEnd && warmupRuns < MAX_WARMUP_RUNS) {
                    compiled.run(input.tensors()).values().forEach(Tensor::close);
                    warmupRuns++;
                }
                progress.done();
            }
            long[] nanos = new long[timedRuns];
            float[] last = null;
            RunProfile profile = profileRows == null ? null : new RunProfile();
            for (int i = 0; i < timedRuns; i++) {
                progress.next(id + ": run " + (i + 1) + "/" + timedRuns);
                long start = System.nanoTime();
                Map<String, Tensor> outputs = compiled.run(input.tensors(), profile);
                nanos[i] = System.nanoTime() - start;
                try {
                    if (first == null || i == timedRuns - 1) {
                        float[] values = concatenated(outputs);
                        first = first == null ? values : first;
                        last = i == timedRuns - 1 ? values : last;
                    }
                } finally {
                    outputs.values().forEach(Tensor::close);
                }
                progress.done();
            }
            Selection selection = compiled.selectionForBatch(batch);
            String chosen = selection.winner();
            ExecutionPlan plan = InternalAccess.plan(compiled, batch);
            // A pinned node (a mixed plan's too) runs where it was put on purpose; any other node off
            // the chosen backend (a mixed plan's base) fell back, or its backend was dropped.
            String expected = selection.mixedWon() ? selection.mixed().base() : chosen;
            int fallbacks = (int) plan.placements().stream()
                    .filter(p -> !p.reason().startsWith("pinned") && !p.backend().equals(expected)).count();
            return new Measurement(id, chosen, batch, warmupRuns, fallbacks, plan.skippedBackends(), nanos, first, last,
                    compileMs, selection.cache() == Selection.CacheUse.MISS ? selection.selectionMillis() : 0,
                    profile == null ? null : ProfileRow.of(profile, plan, peaks),
                    profile == null ? null : peaks.of(expected));
        }
    }

    private static String deviceOf(Engine engine, String backendId) {
        List<Device> devices = engine.backend(backendId).devices();
        return devices.isEmpty() ? "-" : devices.getFirst().name();
    }

    private static double roundMicros(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    private void print(List<Result> results) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, results);
            return;
        }
        Table table = new Table("model", "backend", "batch", "runs", "median ms", "p90 ms", "min ms", "max ms",
                "images/s", "max rel err", "compile ms", "device");
        for (Result r : results) {
            String backendText = r.backend().equals(r.selectedBackend()) ? r.backend()
                    : r.backend() + " -> " + r.selectedBackend();
            table.row(r.model(), backendText + (r.fallbackNodes() > 0 ? " (+" + r.fallbackNodes() + " fallback)" : ""),
                    r.batch(), r.runs(), fixed(r.medianMs()), fixed(r.p90Ms()), fixed(r.minMs()), fixed(r.maxMs()),
                    fixed(r.imagesPerS()), String.format(Locale.ROOT, "%.1e", r.maxRelError()),
                    String.format(Locale.ROOT, "%.0f", r.compileMs()), r.device());
        }
        table.print(out);
        for (Result r : results) {
            if (r.profile() != null) {
                printProfile(out, r);
            }
        }
    }

    /** The slowest entries of a result's profile, by median, with their share of the sum of all medians. */
    private void printProfile(PrintWriter out, Result r) {
        List<ProfileRow> slowest = new ArrayList<>(r.profile());
        slowest.sort(Comparator.comparingDouble(ProfileRow::medianMicros).reversed());
        double sum = slowest.stream().mapToDouble(ProfileRow::medianMicros).sum();
        out.println();
        out.printf(Locale.ROOT, "%s on %s, batch %d: the %d slowest of %d entries (sum of medians %.2f ms, median run"
                        + " %.2f ms)%n", r.model(), r.backend(), r.batch(), Math.min(profileRows, slowest.size()),
                slowest.size(), sum / 1000, r.medianMs());
        out.println("peak: " + r.peak());
        Table table = new Table("median us", "share", "GFLOP/s", "% of peak", "node", "op", "backend", "algorithm");
        for (ProfileRow e : slowest.subList(0, Math.min(profileRows, slowest.size()))) {
            table.row(String.format(Locale.ROOT, "%.1f", e.medianMicros()),
                    String.format(Locale.ROOT, "%.1f%%", sum == 0 ? 0 : 100 * e.medianMicros() / sum),
                    e.macs() == 0 ? "-" : fixed(e.gflopPerS()), percent(e.pctOfPeak()), e.name(), e.op(), e.backend(),
                    e.algorithm());
        }
        table.print(out);
        out.println();
        out.println("by class of layer:");
        Table classes = new Table("class", "nodes", "median us", "share", "GFLOP/s", "% of peak");
        for (ProfileClass c : r.profileClasses()) {
            classes.row(c.opClass(), c.nodes(), String.format(Locale.ROOT, "%.1f", c.medianMicros()),
                    String.format(Locale.ROOT, "%.1f%%", c.sharePct()), c.macs() == 0 ? "-" : fixed(c.gflopPerS()),
                    percent(c.pctOfPeak()));
        }
        classes.print(out);
    }

    private static String percent(Double pct) {
        return pct == null ? "-" : String.format(Locale.ROOT, "%.1f%%", pct);
    }

    private static String fixed(double value) {
        return String.format(Locale.ROOT, value >= 100 ? "%.1f" : "%.2f", value);
    }
}
