package dev.kiln.spark;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.image.ImageNetPreprocessing;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Images per second through the transformer on {@code local[2]} and {@code local[1]} against a
 * plain Java loop that decodes and runs the same files with the same backend, batch size and
 * engine thread count, in one JVM, in alternating rounds (after a warm-up of each), so that a
 * busy host's drift falls on all of them. Not a test: run by hand (the README gives the command).
 *
 * <p>Arguments: {@code DIR [model=mobilenet_v2] [backend=cpu-simd] [batch=16] [rounds=3] [warmup=200]}:
 * the warm-up round runs the first {@code warmup} files only.
 */
public final class SparkOverheadBenchmark {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String model = arg(args, "model", "mobilenet_v2");
        String backend = arg(args, "backend", "cpu-simd");
        int batch = Integer.parseInt(arg(args, "batch", "16"));
        int rounds = Integer.parseInt(arg(args, "rounds", "3"));
        int warmup = Integer.parseInt(arg(args, "warmup", "200"));
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        System.out.printf(Locale.ROOT, "%d images, %s on %s, batch %d, load %s%n", files.size(), model, backend, batch,
                Files.readString(Path.of("/proc/loadavg")).trim());
        List<List<Double>> results = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        String[] names = {"plain loop, 2 threads", "spark local[2]", "spark local[1]"};
        for (int round = 0; round <= rounds; round++) {
            List<Path> these = round == 0 ? files.subList(0, Math.min(warmup, files.size())) : files;
            double plain = plainLoop(these, model, backend, batch, 2);
            // The whole folder as one path (Spark lists it once); the warm-up's files one by one.
            String[] paths = round == 0 ? these.stream().map(Path::toString).toArray(String[]::new)
                    : new String[]{dir.toString()};
            double two = spark("local[2]", paths, model, backend, batch);
            double one = spark("local[1]", paths, model, backend, batch);
            if (round == 0) {
                System.out.printf(Locale.ROOT, "warm-up: %.1f %.1f %.1f images/s%n", plain, two, one);
                continue;
            }
            results.get(0).add(plain);
            results.get(1).add(two);
            results.get(2).add(one);
            System.out.printf(Locale.ROOT, "round %d: plain %.1f, local[2] %.1f (%.2f of plain), local[1] %.1f images/s%n",
                    round, plain, two, two / plain, one);
        }
        for (int i = 0; i < 3; i++) {
            System.out.printf(Locale.ROOT, "%-24s median %.1f images/s%n", names[i], median(results.get(i)));
        }
        System.out.printf(Locale.ROOT, "local[2] / plain: %.2f; local[2] / local[1]: %.2f; load %s%n",
                median(results.get(1)) / median(results.get(0)), median(results.get(1)) / median(results.get(2)),
                Files.readString(Path.of("/proc/loadavg")).trim());
    }

    /** Decode, batch and run every file on this thread, as an application without Spark would. */
    static double plainLoop(List<Path> files, String model, String backend, int batch, int threads) throws Exception {
        try (Graph graph = Models.byName(model).build(42);
             CompiledModel compiled = Engine.create(EngineOptions.defaults().withThreads(threads)
                     .withSelection(SelectionPolicy.RANK)).compile(graph, backend)) {
            int[] dims = graph.inputs().getFirst().shape().dims();
            ImageNetPreprocessing preprocessing = ImageNetPreprocessing.forInputSize(dims[2], dims[3]);
            int item = 3 * dims[2] * dims[3];
            compiled.planForBatch(batch);
            long start = System.nanoTime();
            for (int from = 0; from < files.size(); from += batch) {
                int n = Math.min(batch, files.size() - from);
                try (Tensor input = Tensor.allocate(Shape.of(n, 3, dims[2], dims[3]))) {
                    for (int i = 0; i < n; i++) {
                        try (Tensor one = preprocessing.read(files.get(from + i))) {
                            input.copyFrom(one.toFloatArray(), 0, (long) i * item, item);
                        }
                    }
                    try (Tensor out = compiled.run(input)) {
                        float[] logits = out.toFloatArray();
                        int classes = logits.length / n;
                        for (int i = 0; i < n; i++) {
                            TopClassRows.of(java.util.Arrays.copyOfRange(logits, i * classes, (i + 1) * classes), 5);
                        }
                    }
                }
            }
            return files.size() / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The transformer over the folder, every output computed (written to Spark's noop sink). */
    static double spark(String master, String[] paths, String model, String backend, int batch) {
        SparkSession spark = SparkSession.builder().master(master).appName("kiln-overhead")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            KilnTransformer kiln = new KilnTransformer().setModel(model).setBackend(backend).setSelection("rank")
                    .setBatchSize(batch);
            // The model is compiled on the first partition: compile it before the clock starts.
            kiln.transform(spark.read().format("binaryFile").load(paths).limit(batch))
                    .write().format("noop").mode("overwrite").save();
            long count = spark.read().format("binaryFile").load(paths).count();
            long start = System.nanoTime();
            kiln.transform(spark.read().format("binaryFile").load(paths))
                    .write().format("noop").mode("overwrite").save();
            return count / ((System.nanoTime() - start) / 1e9);
        } finally {
            spark.stop();
        }
    }

    private static String arg(String[] args, String key, String fallback) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return fallback;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
