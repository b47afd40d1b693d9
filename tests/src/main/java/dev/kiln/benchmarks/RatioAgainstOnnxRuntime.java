package dev.kiln.benchmarks;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Kiln against ONNX Runtime (CPU provider, graph optimization ALL, one intra-op thread per
 * core) on the same PyTorch export, in one JVM, taking turns in blocks of a few runs so that a
 * noisy neighbour slows both alike. Prints, per model, each engine's median,
 * minimum and maximum and the ratio of the medians: the figure every speed target is stated in;
 * beside it the median over blocks of the ratio of the two blocks' medians ("paired"), which a
 * host that changes speed between blocks disturbs less;
 * images per second; and the cold start of each: Kiln's import, optimization, compilation and
 * first run beside ONNX Runtime's session creation and first run (the first model of a JVM also
 * pays for loading and JIT-compiling the engines themselves).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp tests/target/kiln-benchmarks.jar dev.kiln.benchmarks.RatioAgainstOnnxRuntime \
 *     [backend=cpu-simd] [models=resnet50,mobilenet_v2] [batch=1] [runs=20] [warmup=10]
 * </pre>
 */
public final class RatioAgainstOnnxRuntime {
    private static final List<String> SIX = List.of("vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2",
            "efficientnet_b0");

    private static final int BLOCK = 5;
    private static final long PAUSE_MS = 100;
    private static final long WARMUP_SECONDS = 3;

    private RatioAgainstOnnxRuntime() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            }
            a.put(kv[0], kv[1]);
        }
        String backend = a.getOrDefault("backend", "cpu-simd");
        List<String> models = a.containsKey("models") ? List.of(a.get("models").split(",")) : SIX;
        int batch = Integer.parseInt(a.getOrDefault("batch", "1"));
        int runs = Integer.parseInt(a.getOrDefault("runs", "20"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "10"));
        ParityExports exports = ParityExports.locate();
        Engine engine = Engine.create();
        System.out.printf(Locale.ROOT, "batch %d, %d runs after %d warm-up, %d threads, backend %s%n", batch, runs,
                warmup, engine.options().threads(), backend);
        System.out.printf(Locale.ROOT, "%-16s %28s %28s %8s %8s %18s %22s%n", "model", "kiln ms (median min-max)",
                "onnxruntime ms (median min-max)", "ratio", "paired", "images/s kiln/ort", "cold start ms kiln/ort");
        for (String model : models) {
            Path file = exports.defaultExport(model);
            long coldStart = System.nanoTime();
            try (Graph graph = OnnxImporter.load(file);
                 CompiledModel kiln = engine.compile(graph, backend)) {
                Shape shape = graph.inputShapesForBatch(batch).get(graph.inputs().getFirst().name());
                try (Tensor input = Tensor.of(shape, BenchmarkInput.standardNormal(shape))) {
                    kiln.run(input).close();
                    double kilnCold = (System.nanoTime() - coldStart) / 1e6;
                    long ortStart = System.nanoTime();
                    try (OnnxRuntimeModel ort = new OnnxRuntimeModel(file, batch, engine.options().threads())) {
                        ort.run();
                        double ortCold = (System.nanoTime() - ortStart) / 1e6;
                        measure(model, batch, runs, warmup, kiln, input, ort, kilnCold, ortCold);
                    }
                }
            }
        }
    }

    private static void measure(String model, int batch, int runs, int warmup, CompiledModel kiln, Tensor input,
                                OnnxRuntimeModel ort, double kilnCold, double ortCold) throws Exception {
        // At least `warmup` runs each, and Kiln's for at least WARMUP_SECONDS: its kernels are
        // JIT-compiled, and the ones that run once per inference reach C2 only after a while.
        long warmupEnd = System.nanoTime() + WARMUP_SECONDS * 1_000_000_000L;
        for (int i = 0; i < warmup || System.nanoTime() < warmupEnd; i++) {
            kiln.run(input).close();
        }
        for (int i = 0; i < warmup; i++) {
            ort.run();
        }
        double[] k = new double[runs];
        double[] o = new double[runs];
        double[] blockRatios = new double[(runs + BLOCK - 1) / BLOCK];
        for (int i = 0; i < runs; i += BLOCK) {
            int n = Math.min(BLOCK, runs - i);
            pause();
            for (int j = i; j < i + n; j++) {
                long t0 = System.nanoTime();
                kiln.run(input).close();
                k[j] = (System.nanoTime() - t0) / 1e6;
            }
            pause();
            for (int j = i; j < i + n; j++) {
                long t0 = System.nanoTime();
                ort.run();
                o[j] = (System.nanoTime() - t0) / 1e6;
            }
            blockRatios[i / BLOCK] = median(Arrays.copyOfRange(k, i, i + n)) / median(Arrays.copyOfRange(o, i, i + n));
        }
        System.out.printf(Locale.ROOT, "%-16s %28s %28s %8.2f %8.2f %18s %22s%n", model, summary(k),
                summary(o), median(k) / median(o), median(blockRatios), String.format(Locale.ROOT, "%.1f/%.1f",
                        batch * 1000 / median(k), batch * 1000 / median(o)),
                String.format(Locale.ROOT, "%.0f/%.0f", kilnCold, ortCold));
    }

    /**
     * ONNX Runtime's intra-op threads spin for a while after each run (its fastest setting), and
     * a spinning thread takes a core from whatever runs next: so the engines take turns in
     * blocks, with a pause between blocks for the spinning to stop.
     */
    private static void pause() throws InterruptedException {
        Thread.sleep(PAUSE_MS);
    }

    private static String summary(double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median(ms), s[0], s[s.length - 1]);
    }

    private static double median(double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
