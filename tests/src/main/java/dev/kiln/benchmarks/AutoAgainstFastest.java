package dev.kiln.benchmarks;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.selection.Candidate;
import dev.kiln.selection.MixedPlan;
import dev.kiln.selection.Selection;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether {@code auto} runs as fast as the fastest single backend: per model and batch size,
 * {@code auto} (measured selection, through the tuning cache at {@code KILN_CACHE}) beside every
 * backend it considered, compiled by name, and ONNX Runtime, all in one JVM, taking turns in blocks
 * as {@link RatioAgainstOnnxRuntime} does, so that a noisy neighbour slows all of them alike.
 * Prints each one's median, auto's choice and the time choosing took, and auto's median over the
 * fastest one's: the figure the selection target (within 5%) is stated in. Run it twice with one
 * cache: the second process answers from the cache, and its "choose ms" is what a warm start pays.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp tests/target/kiln-benchmarks.jar dev.kiln.benchmarks.AutoAgainstFastest \
 *     [models=resnet50,mobilenet_v2] [batch=1,8] [runs=20] [skip=opencl]
 * </pre>
 */
public final class AutoAgainstFastest {
    private static final List<String> SIX = List.of("vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2",
            "efficientnet_b0");
    private static final int BLOCK = 5;
    private static final long PAUSE_MS = 100;
    private static final long WARMUP_SECONDS = 2;

    private AutoAgainstFastest() {
    }

    /** One engine under test: a compiled model, or ONNX Runtime. */
    interface Runner {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            }
            a.put(kv[0], kv[1]);
        }
        List<String> models = a.containsKey("models") ? List.of(a.get("models").split(",")) : SIX;
        int[] batches = Arrays.stream(a.getOrDefault("batch", "1").split(",")).mapToInt(Integer::parseInt).toArray();
        int runs = Integer.parseInt(a.getOrDefault("runs", "20"));
        List<String> skip = a.containsKey("skip") ? List.of(a.get("skip").split(",")) : List.of();
        ParityExports exports = ParityExports.locate();
        try (Engine engine = Engine.create(EngineOptions.defaults().withSelection(SelectionPolicy.MEASURED))) {
            System.out.printf(Locale.ROOT, "%d runs per engine in blocks of %d, %d threads, selection budget %s%n",
                    runs, BLOCK, engine.options().threads(), EngineOptions.configuredSelectionBudget());
            for (String model : models) {
                for (int batch : batches) {
                    compare(engine, exports.defaultExport(model), model, batch, runs, skip);
                }
            }
        }
    }

    private static void compare(Engine engine, Path file, String model, int batch, int runs, List<String> skip)
            throws Exception {
        try (Graph graph = OnnxImporter.load(file)) {
            Shape shape = graph.inputShapesForBatch(batch).get(graph.inputs().getFirst().name());
            try (Tensor input = Tensor.of(shape, BenchmarkInput.standardNormal(shape));
                 CompiledModel auto = engine.compile(graph)) {
                Selection selection = auto.selectionForBatch(batch);
                Map<String, Runner> runners = new LinkedHashMap<>();
                runners.put("auto", () -> auto.run(input).close());
                List<AutoCloseable> open = new ArrayList<>();
                try {
                    for (Candidate c : selection.candidates()) {
                        boolean considered = c.outcome() != Candidate.Outcome.NOT_A_CANDIDATE
                                && c.outcome() != Candidate.Outcome.DROPPED;
                        if (considered && !skip.contains(c.backend()) && !c.backend().equals("mixed")) {
                            CompiledModel named = engine.compile(graph, c.backend());
                            open.add(named);
                            runners.put(c.backend(), () -> named.run(input).close());
                        }
                    }
                    OnnxRuntimeModel ort = new OnnxRuntimeModel(file, batch, engine.options().threads());
                    open.add(ort);
                    runners.put("onnxruntime", ort::run);
                    Map<String, double[]> times = measure(runners, runs);
                    print(model, batch, selection, times);
                } finally {
                    for (AutoCloseable c : open) {
                        c.close();
                    }
                }
            }
        }
    }

    /**
     * Each runner warmed, then timed in turns in blocks of {@value #BLOCK} runs with a pause before
     * each block; milliseconds per run, by runner.
     */
    static Map<String, double[]> measure(Map<String, Runner> runners, int runs) throws Exception {
        for (Runner r : runners.values()) {
            long end = System.nanoTime() + WARMUP_SECONDS * 1_000_000_000L;
            for (int i = 0; i < 3 || System.nanoTime() < end; i++) {
                r.run();
            }
        }
        Map<String, double[]> times = new LinkedHashMap<>();
        runners.keySet().forEach(k -> times.put(k, new double[runs]));
        for (int i = 0; i < runs; i += BLOCK) {
            int n = Math.min(BLOCK, runs - i);
            for (Map.Entry<String, Runner> e : runners.entrySet()) {
                Thread.sleep(PAUSE_MS);
                double[] t = times.get(e.getKey());
                for (int j = i; j < i + n; j++) {
                    long t0 = System.nanoTime();
                    e.getValue().run();
                    t[j] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        return times;
    }

    private static void print(String model, int batch, Selection selection,
                              Map<String, double[]> times) {
        double fastest = Double.MAX_VALUE;
        String fastestName = "";
        StringBuilder row = new StringBuilder();
        for (Map.Entry<String, double[]> e : times.entrySet()) {
            double m = median(e.getValue());
            row.append(String.format(Locale.ROOT, " %s %.2f", e.getKey(), m));
            if (!e.getKey().equals("auto") && !e.getKey().equals("onnxruntime") && m < fastest) {
                fastest = m;
                fastestName = e.getKey();
            }
        }
        double auto = median(times.get("auto"));
        System.out.printf(Locale.ROOT, "%-16s batch %d: auto chose %s (cache %s, choose ms %.0f); medians ms:%s;"
                        + " auto/fastest (%s) %.3f; fastest/onnxruntime %.2f%n", model, batch, selection.winner(),
                selection.cache().label(), selection.selectionMillis(), row, fastestName, auto / fastest,
                fastest / median(times.get("onnxruntime")));
        for (Candidate c : selection.candidates()) {
            System.out.printf(Locale.ROOT, "    candidate %-10s %-16s %8s ms %s%n", c.backend(),
                    c.outcome().name().toLowerCase(Locale.ROOT), c.timed() ? String.format(Locale.ROOT, "%.2f",
                            c.medianMillis()) : "-", c.note() == null ? "" : c.note());
        }
        MixedPlan mixed = selection.mixed();
        System.out.printf(Locale.ROOT, "    mixed plan: %s, %s (predicted %.2f ms against %s %.2f ms)%n",
                mixed.status().name().toLowerCase(Locale.ROOT), mixed.note(), mixed.predictedMillis(),
                mixed.bestSingle(), mixed.bestSinglePredictedMillis());
    }

    private static double median(double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
