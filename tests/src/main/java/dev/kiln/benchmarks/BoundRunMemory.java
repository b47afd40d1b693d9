package dev.kiln.benchmarks;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a warm run with bound outputs costs in memory: heap bytes allocated per run (all threads,
 * the engine's pool included), against a run that allocates its outputs, and the process's
 * resident memory after the first 1,000 bound runs and after all of them (after a full
 * collection each time: garbage on the heap is not memory the runs keep), with a reading every
 * 1,000 runs on the way.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp tests/target/kiln-benchmarks.jar dev.kiln.benchmarks.BoundRunMemory \
 *     model=resnet50 backends=cpu-simd,onednn runs=10000
 * </pre>
 */
public final class BoundRunMemory {
    private BoundRunMemory() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            }
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        String modelName = a.getOrDefault("model", "resnet50");
        int runs = Integer.parseInt(a.getOrDefault("runs", "10000"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "300"));
        for (String backend : a.getOrDefault("backends", "cpu-simd,onednn").split(",")) {
            try (Graph g = Models.byName(modelName).build(42);
                 CompiledModel model = Engine.create().compile(g, backend)) {
                String inputName = g.inputs().getFirst().name();
                Shape inputShape = g.inputShapesForBatch(1).get(inputName);
                try (Tensor x = Tensor.allocate(inputShape)) {
                    Map<String, Tensor> in = Map.of(inputName, x);
                    Map<String, Tensor> out = new HashMap<>();
                    model.outputShapes(Map.of(inputName, inputShape)).forEach((k, s) -> out.put(k, Tensor.allocate(s)));
                    try {
                        measure(backend, modelName, model, in, out, runs, warmup);
                    } finally {
                        out.values().forEach(Tensor::close);
                    }
                }
            }
        }
    }

    private static void measure(String backend, String modelName, CompiledModel model, Map<String, Tensor> in,
                                Map<String, Tensor> out, int runs, int warmup) throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < warmup; i++) {
            model.run(in, out);
        }
        int sample = 50;
        long before = threads.getTotalThreadAllocatedBytes();
        long started = System.nanoTime();
        for (int i = 0; i < sample; i++) {
            model.run(in, out);
        }
        double ms = (System.nanoTime() - started) / 1e6 / sample;
        long bound = (threads.getTotalThreadAllocatedBytes() - before) / sample;
        System.out.printf(Locale.ROOT, "%s %s batch 1: heap bytes per warm run %d with bound outputs (%.1f ms a run)%n",
                modelName, backend, bound, ms);
        long after1000 = runs == 0 ? residentBytes() : 0;
        long afterAll = after1000;
        for (int done = 0; done < runs; ) {
            // A reading every 1,000 runs shows a trend while the runs go on (a loaded host may take hours).
            int next = Math.min(runs, done + 1_000);
            for (; done < next; done++) {
                model.run(in, out);
            }
            afterAll = residentBytes();
            if (done == Math.min(1_000, runs)) {
                after1000 = afterAll;
            }
            System.out.printf(Locale.ROOT, "%s %s: resident memory %d KB after %,d bound runs%n", modelName, backend,
                    afterAll / 1024, done);
        }
        System.out.printf(Locale.ROOT, "%s %s: resident memory %d KB after 1,000 bound runs, %d KB after %,d (%+.2f%%),"
                        + " load average %.2f%n", modelName, backend, after1000 / 1024, afterAll / 1024, runs,
                100.0 * (afterAll - after1000) / after1000,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        // Last, so that its garbage does not inflate the first resident reading.
        before = threads.getTotalThreadAllocatedBytes();
        for (int i = 0; i < sample; i++) {
            model.run(in).values().forEach(Tensor::close);
        }
        System.out.printf(Locale.ROOT, "%s %s batch 1: heap bytes per warm run %d allocating the outputs%n", modelName,
                backend, (threads.getTotalThreadAllocatedBytes() - before) / sample);
    }

    private static long residentBytes() throws IOException {
        System.gc();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
