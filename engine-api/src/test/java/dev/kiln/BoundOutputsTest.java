package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CompiledModel#run(Map, Map)}: the caller's output tensors receive what an allocating
 * run returns, every wrong binding is refused before anything runs, and warm runs allocate
 * nothing that grows with the data, nor memory that grows with the number of runs.
 */
class BoundOutputsTest {
    private static final int CHANNELS = 8, SIZE = 16;

    private static Graph graph;
    private static CompiledModel model;

    /** Two outputs: the residual chain's end, and the first convolution's ReLU. */
    @BeforeAll
    static void compile() {
        SplittableRandom random = new SplittableRandom(5);
        GraphBuilder b = new GraphBuilder("two-outputs");
        b.input("x", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        String v = "x";
        String first = null;
        for (int i = 0; i < 3; i++) {
            float[] w = new float[CHANNELS * CHANNELS * 9];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) random.nextGaussian() * 0.2f;
            }
            b.initializer("w" + i, Tensor.of(Shape.of(CHANNELS, CHANNELS, 3, 3), w));
            String c = b.add("conv" + i, new Conv(Window.square(3, 1, 1), 1), v, "w" + i);
            String r = b.add("relu" + i, new Activation(ActivationFunction.RELU), c);
            first = first == null ? r : first;
            v = b.add("add" + i, Binary.ADD, r, v);
        }
        b.output(v);
        b.output(first);
        graph = b.build();
        model = Engine.withBackends(List.of(new ReferenceBackend())).compile(graph, ReferenceBackend.ID);
    }

    @AfterAll
    static void close() {
        model.close();
        graph.close();
    }

    private static Tensor image(int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[batch * CHANNELS * SIZE * SIZE];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(batch, CHANNELS, SIZE, SIZE), v);
    }

    private static Map<String, Tensor> allocateFor(int batch) {
        Map<String, Tensor> out = new HashMap<>();
        model.outputShapes(Map.of("x", Shape.of(batch, CHANNELS, SIZE, SIZE)))
                .forEach((name, shape) -> out.put(name, Tensor.allocate(shape)));
        return out;
    }

    @Test
    void boundOutputsReceiveWhatAnAllocatingRunReturns() {
        for (int batch : new int[]{1, 3}) {
            try (Tensor x = image(batch, batch)) {
                Map<String, Tensor> expected = model.run(Map.of("x", x));
                Map<String, Tensor> bound = allocateFor(batch);
                try {
                    model.run(Map.of("x", x), bound);
                    assertEquals(expected.keySet(), bound.keySet());
                    for (String name : expected.keySet()) {
                        assertArrayEquals(expected.get(name).toFloatArray(), bound.get(name).toFloatArray(), name);
                    }
                    // The same outputs again, after a run into other tensors: nothing stale, nothing shared.
                    try (Tensor other = image(batch, 99)) {
                        model.run(Map.of("x", other), allocateFor(batch));
                    }
                    model.run(Map.of("x", x), bound);
                    for (String name : expected.keySet()) {
                        assertArrayEquals(expected.get(name).toFloatArray(), bound.get(name).toFloatArray(), name);
                    }
                } finally {
                    expected.values().forEach(Tensor::close);
                    bound.values().forEach(Tensor::close);
                }
            }
        }
    }

    @Test
    void wrongBindingsAreRefusedNamingTheOutput() {
        try (Tensor x = image(1, 1);
             Tensor right = Tensor.allocate(1, CHANNELS, SIZE, SIZE);
             Tensor other = Tensor.allocate(1, CHANNELS, SIZE, SIZE);
             Tensor wrong = Tensor.allocate(2, CHANNELS, SIZE, SIZE)) {
            String end = graph.outputs().get(0), relu = graph.outputs().get(1);
            var missing = assertThrows(InvalidInputException.class, () -> model.run(Map.of("x", x), Map.of(end, right)));
            assertTrue(missing.getMessage().contains("missing output '" + relu + "'"), missing.getMessage());

            var shape = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x), Map.of(end, wrong, relu, other)));
            assertTrue(shape.getMessage().contains("output '" + end + "' must have shape [1, 8, 16, 16]")
                    && shape.getMessage().contains("[2, 8, 16, 16]"), shape.getMessage());

            var extra = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x), Map.of(end, right, relu, other, "logits", wrong)));
            assertTrue(extra.getMessage().contains("unexpected output 'logits'"), extra.getMessage());

            var shared = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x), Map.of(end, right, relu, right)));
            assertTrue(shared.getMessage().contains("same tensor"), shared.getMessage());

            var input = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x), Map.of(end, x, relu, other)));
            assertTrue(input.getMessage().contains("input 'x'"), input.getMessage());

            Tensor closed = Tensor.allocate(1, CHANNELS, SIZE, SIZE);
            closed.close();
            var gone = assertThrows(InvalidInputException.class,
                    () -> model.run(Map.of("x", x), Map.of(end, right, relu, closed)));
            assertTrue(gone.getMessage().contains("'" + relu + "' is a closed tensor"), gone.getMessage());

            // The model is still fine.
            model.run(Map.of("x", x), Map.of(end, right, relu, other));
        }
    }

    @Test
    void oneInputOneOutputShortcutChecksTheModel() {
        try (Tensor x = image(1, 1); Tensor y = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            var e = assertThrows(InvalidInputException.class, () -> model.run(x, y));
            assertTrue(e.getMessage().contains("one input and one output"), e.getMessage());
        }
    }

    private static long heapBytesPerRun(Runnable run, int runs) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 200; i++) {
            run.run();
        }
        long before = threads.getTotalThreadAllocatedBytes();
        for (int i = 0; i < runs; i++) {
            run.run();
        }
        return (threads.getTotalThreadAllocatedBytes() - before) / runs;
    }

    @Test
    void warmBoundRunsAllocateLessThanAllocatingOnes() {
        try (Tensor x = image(1, 1)) {
            Map<String, Tensor> in = Map.of("x", x);
            Map<String, Tensor> out = allocateFor(1);
            try {
                long bound = heapBytesPerRun(() -> model.run(in, out), 100);
                long allocating = heapBytesPerRun(() -> model.run(in).values().forEach(Tensor::close), 100);
                System.out.printf("reference, 3 residual blocks: heap bytes per warm run %d with bound outputs, %d"
                        + " allocating them%n", bound, allocating);
                // What remains is the kernels' task lambdas and the hand-over to a pool thread.
                assertTrue(bound < 2048, "a warm bound-output run allocated " + bound + " heap bytes");
                assertTrue(bound < allocating, bound + " >= " + allocating);
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * Resident memory of this process, from Linux's /proc, after a full collection: garbage the
     * runs left on the heap is not memory they keep (a young generation filling up slowly would
     * read as growth), what they keep off the heap or in live objects is.
     */
    private static long residentBytes() throws IOException {
        System.gc();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void tenThousandBoundRunsKeepResidentMemoryFlat() throws IOException {
        if (!Files.isReadable(Path.of("/proc/self/status"))) {
            System.out.println("SKIPPED: resident memory is read from Linux's /proc, which this system lacks");
        }
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "resident memory is read from Linux's /proc");
        try (Tensor x = image(1, 1)) {
            Map<String, Tensor> in = Map.of("x", x);
            Map<String, Tensor> out = allocateFor(1);
            try {
                for (int i = 0; i < 1_000; i++) {
                    model.run(in, out);
                }
                long after1000 = residentBytes();
                long tensors = Tensor.allocatedBytes();
                for (int i = 1_000; i < 10_000; i++) {
                    model.run(in, out);
                }
                long after10000 = residentBytes();
                double growth = (after10000 - after1000) / (double) after1000;
                System.out.printf("resident memory after 1,000 bound runs %d KB, after 10,000 %d KB (%+.2f%%)%n",
                        after1000 / 1024, after10000 / 1024, 100 * growth);
                assertEquals(tensors, Tensor.allocatedBytes(), "tensor bytes allocated by the runs");
                assertTrue(growth < 0.05, "resident memory grew by " + 100 * growth + "% from run 1,000 to 10,000");
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
