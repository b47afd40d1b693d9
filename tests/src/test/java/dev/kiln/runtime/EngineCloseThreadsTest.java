package dev.kiln.runtime;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.onednn.OneDnnBackend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An application that makes and closes engines does not gather threads: 1,000 engines, each
 * compiling and running a small model on reference, cpu-simd or onednn in turn, then closed,
 * leave the process with no more threads than one such engine did. Threads are counted by the
 * kernel ({@code /proc/self/task}), so that oneDNN's OpenMP team, which Java cannot see, counts
 * too.
 */
class EngineCloseThreadsTest {
    private static final int ENGINES = 1000;
    /** Engines of three threads: a size no other test of this module uses, so its pool is this test's alone. */
    private static final int THREADS = 3;
    private static final List<String> BACKENDS = List.of("reference", "cpu-simd", OneDnnBackend.ID);

    private static Graph smallModel() {
        GraphBuilder b = new GraphBuilder("engine-close");
        b.input("image", Shape.of(Shape.DYNAMIC, 4, 8, 8));
        b.initializer("w", Tensor.of(Shape.of(8, 4, 3, 3), new float[8 * 4 * 9]));
        String conv = b.add("conv", new Conv(Window.square(3, 1, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU))), "image", "w");
        b.add("pool", GlobalPool.AVERAGE, conv);
        b.output("pool");
        return b.build();
    }

    /**
     * Threads by name (as the kernel keeps them: Java's names cut to 15 characters; an OpenMP
     * helper carries its creator's), leaving out those the JVM itself starts and ends as it
     * pleases: JIT compiler threads, GC threads, the common fork-join pool.
     */
    private static Map<String, Integer> threadsByName() throws IOException {
        Map<String, Integer> names = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String name;
                try {
                    name = Files.readString(task.resolve("comm")).trim();
                } catch (IOException ended) {
                    continue; // the thread ended while we listed
                }
                if (!(name.startsWith("C1 ") || name.startsWith("C2 ") || name.startsWith("GC ")
                        || name.startsWith("G1 ") || name.startsWith("ForkJoinPool"))) {
                    names.merge(name, 1, Integer::sum);
                }
            }
        }
        return names;
    }

    /**
     * As {@link #threadsByName()} once the pool's workers are gone from the kernel's list too, or
     * after 5 s: a Java thread's join returns as its Java part ends, a moment before the kernel's
     * thread exits.
     */
    private static Map<String, Integer> settledThreadsByName() throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Map<String, Integer> names = threadsByName();
        while (kilnWorkers(names) > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            names = threadsByName();
        }
        return names;
    }

    private static int total(Map<String, Integer> names) {
        return names.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static int kilnWorkers(Map<String, Integer> names) {
        return names.entrySet().stream().filter(e -> e.getKey().startsWith("kiln-worker-" + THREADS))
                .mapToInt(Map.Entry::getValue).sum();
    }

    private static void compileRunClose(Graph graph, int round) {
        try (Engine engine = Engine.create(EngineOptions.defaults().withThreads(THREADS));
             CompiledModel model = engine.compile(graph, BACKENDS.get(round % BACKENDS.size()));
             Tensor x = Tensor.allocate(1, 4, 8, 8);
             Tensor y = model.run(x)) {
            assertEquals(Shape.of(1, 8, 1, 1), y.shape());
        }
    }

    @Test
    void thousandEnginesClosedLeaveNoThreadsBehind() throws IOException {
        try (Graph graph = smallModel()) {
            // Once per backend first: what a process starts once (oneDNN's thread and its OpenMP
            // team, the arena closer) is there before the count.
            for (int round = 0; round < BACKENDS.size(); round++) {
                compileRunClose(graph, round);
            }
            Map<String, Integer> before = settledThreadsByName();
            assertEquals(0, kilnWorkers(before), "closed engines left their workers: " + before);
            List<Integer> totals = new ArrayList<>();
            for (int round = 0; round < ENGINES; round++) {
                compileRunClose(graph, round);
                if (round % 100 == 99) {
                    totals.add(total(settledThreadsByName()));
                }
            }
            Map<String, Integer> after = settledThreadsByName();
            assertEquals(0, kilnWorkers(after), "closed engines left their workers: " + after);
            assertTrue(total(after) <= total(before), "threads grew over " + ENGINES + " engines, every 100: "
                    + totals + "\nbefore: " + before + "\nafter:  " + after);
        }
    }

    @Test
    void aModelOutlivesItsEnginesCloseAndAClosedEngineCompilesNothing() throws IOException {
        try (Graph graph = smallModel()) {
            Engine engine = Engine.create(EngineOptions.defaults().withThreads(THREADS));
            CompiledModel model = engine.compile(graph, "reference");
            engine.close();
            assertThrows(IllegalStateException.class, () -> engine.compile(graph, "reference"));
            assertEquals(THREADS, kilnWorkers(threadsByName()), "the open model's lease keeps the pool");
            try (Tensor x = Tensor.allocate(2, 4, 8, 8); Tensor y = model.run(x)) {
                assertEquals(Shape.of(2, 8, 1, 1), y.shape());
            }
            model.close();
            assertEquals(0, kilnWorkers(settledThreadsByName()), "the last user's close ends the pool");
            engine.close(); // twice is harmless
        }
    }
}
