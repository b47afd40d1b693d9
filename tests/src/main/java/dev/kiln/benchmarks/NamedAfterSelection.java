package dev.kiln.benchmarks;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether auto's measured selection slows a backend named afterwards in the same process (or the
 * reverse): per model, one JVM compiles {@code backend} by name before any selection, then
 * {@code auto} (measuring every candidate, with a fresh tuning cache in a temporary folder), then
 * {@code backend} by name again, and times the three in turns in blocks. Between the selection
 * and the second compile it reads the process's CPU time over one idle second (from
 * {@code /proc/self/stat}, so that native threads, OpenMP's and PoCL's, count): a candidate's
 * threads left spinning show there. On a sound engine "after" runs as "before" does, and as
 * auto's own plan when auto chose the same backend.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp tests/target/kiln-benchmarks.jar dev.kiln.benchmarks.NamedAfterSelection \
 *     [models=mobilenet_v1,mobilenet_v2] [backend=onednn] [runs=40]
 * </pre>
 */
public final class NamedAfterSelection {
    /** Clock ticks per second of /proc's times: 100 on every Linux Kiln runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private NamedAfterSelection() {
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
        List<String> models = List.of(a.getOrDefault("models", "mobilenet_v1,mobilenet_v2").split(","));
        String backend = a.getOrDefault("backend", "onednn");
        int runs = Integer.parseInt(a.getOrDefault("runs", "40"));
        ParityExports exports = ParityExports.locate();
        for (String model : models) {
            Path cache = Files.createTempDirectory("kiln-named-after-selection");
            try (Engine engine = Engine.create(EngineOptions.defaults().withSelection(SelectionPolicy.MEASURED)
                    .withCacheRoot(cache))) {
                compare(engine, exports.defaultExport(model), model, backend, runs);
            }
        }
    }

    private static void compare(Engine engine, Path file, String model, String backend, int runs) throws Exception {
        try (Graph graph = OnnxImporter.load(file)) {
            Shape shape = graph.inputShapesForBatch(1).get(graph.inputs().getFirst().name());
            Map<String, CompiledModel> compiled = new LinkedHashMap<>();
            try (Tensor input = Tensor.of(shape, BenchmarkInput.standardNormal(shape))) {
                compiled.put("before", engine.compile(graph, backend));
                compiled.get("before").planForBatch(1);
                CompiledModel auto = engine.compile(graph);
                compiled.put("auto", auto);
                auto.planForBatch(1); // the selection: every candidate compiled and measured
                double idleCpuMs = idleCpuMillis();
                compiled.put("after", engine.compile(graph, backend));
                compiled.get("after").planForBatch(1);
                Map<String, AutoAgainstFastest.Runner> runners = new LinkedHashMap<>();
                compiled.forEach((name, m) -> runners.put(name, () -> m.run(input).close()));
                Map<String, double[]> times = AutoAgainstFastest.measure(runners, runs);
                double before = median(times.get("before"));
                System.out.printf(Locale.ROOT, "%-16s %s before %.2f ms, auto (chose %s) %.2f ms, after %.2f ms;"
                                + " after/before %.3f; CPU over one idle second after the selection %.0f ms;"
                                + " steps on one thread: before %s, auto %s, after %s%n",
                        model, backend, before, auto.selectionForBatch(1).winner(), median(times.get("auto")),
                        median(times.get("after")), median(times.get("after")) / before, idleCpuMs,
                        oneThreadSteps(compiled.get("before")), oneThreadSteps(auto), oneThreadSteps(compiled.get("after")));
            } finally {
                for (CompiledModel c : compiled.values()) {
                    c.close();
                }
            }
        }
    }

    /**
     * How many of a oneDNN plan's steps run on one thread, of all: the split oneDNN fixes when a
     * primitive is created, where a plan compiled at another moment may differ. Read from the
     * backend's internals by reflection (a diagnostic of this benchmark, not an API); "-" for a
     * plan that is not oneDNN's, or when the internals have changed.
     */
    private static String oneThreadSteps(CompiledModel model) {
        try {
            Object plan = dev.kiln.runtime.InternalAccess.plan(model, 1);
            java.lang.reflect.Field parts = plan.getClass().getDeclaredField("parts");
            parts.setAccessible(true);
            Object partitioning = parts.get(plan);
            java.lang.reflect.Method compiled = partitioning.getClass().getDeclaredMethod("compiled");
            compiled.setAccessible(true);
            int one = 0;
            int all = 0;
            for (Object partition : (List<?>) compiled.invoke(partitioning)) {
                if (!partition.getClass().getName().equals("dev.kiln.onednn.OneDnnPartition")) {
                    return "-";
                }
                java.lang.reflect.Field steps = partition.getClass().getDeclaredField("steps");
                steps.setAccessible(true);
                for (Object step : (List<?>) steps.get(partition)) {
                    java.lang.reflect.Method threads = step.getClass().getDeclaredMethod("threads");
                    threads.setAccessible(true);
                    one += (int) threads.invoke(step) == 1 ? 1 : 0;
                    all++;
                }
            }
            return one + "/" + all;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "-";
        }
    }

    /** The process's user and system CPU time over one second in which this thread sleeps. */
    private static double idleCpuMillis() throws IOException, InterruptedException {
        long start = processTicks();
        Thread.sleep(1000);
        return (processTicks() - start) * 1000 / TICKS_PER_SECOND;
    }

    private static long processTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
