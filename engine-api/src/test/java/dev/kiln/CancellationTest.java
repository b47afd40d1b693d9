package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs stopped by a timeout, a cancel handle or a cancelled future: each ends with a
 * {@link RunCancelledException} soon after it is asked to, and the model's next run computes the
 * same result as a run that was never stopped. The model is one partition on the reference
 * backend, so every stop happens inside the partition: between nodes, or between the tasks of a
 * convolution's parallel loop.
 */
class CancellationTest {
    private static final int CHANNELS = 32, SIZE = 56, LAYERS = 8;
    /** A hang guard, not a speed claim: a stopped run takes one task (milliseconds) to end. */
    private static final long STOP_GUARD_MS = 5_000;

    private static Graph graph;
    private static CompiledModel model;
    private static Tensor image;
    private static float[] expected;

    /** Eight 3x3 convolutions of 32 channels at 56x56: about 0.2 G multiply-adds a run. */
    @BeforeAll
    static void compile() {
        SplittableRandom random = new SplittableRandom(11);
        GraphBuilder b = new GraphBuilder("conv-stack");
        b.input("x", Shape.of(1, CHANNELS, SIZE, SIZE));
        String v = "x";
        for (int i = 0; i < LAYERS; i++) {
            float[] w = new float[CHANNELS * CHANNELS * 9];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) random.nextGaussian() * 0.08f;
            }
            b.initializer("w" + i, Tensor.of(Shape.of(CHANNELS, CHANNELS, 3, 3), w));
            v = b.add("conv" + i, new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(
                    ActivationFunction.RELU))), v, "w" + i);
        }
        b.output(v);
        graph = b.build();
        model = Engine.withBackends(List.of(new ReferenceBackend())).compile(graph, ReferenceBackend.ID);
        float[] pixels = new float[CHANNELS * SIZE * SIZE];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        image = Tensor.of(Shape.of(1, CHANNELS, SIZE, SIZE), pixels);
        try (Tensor y = model.run(image)) {
            expected = y.toFloatArray();
        }
    }

    @AfterAll
    static void close() {
        model.close();
        graph.close();
        image.close();
    }

    private static void assertStillComputesTheSame() {
        try (Tensor y = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            model.run(image, y);
            assertArrayEquals(expected, y.toFloatArray(), "the run after a stopped one");
        }
    }

    @Test
    void timeoutStopsARun() {
        try (Tensor y = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            long started = System.nanoTime();
            var e = assertThrows(RunCancelledException.class, () -> model.run(Map.of("x", image), Map.of(
                    graph.outputs().getFirst(), y), new RunOptions(Duration.ofMillis(5), null)));
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(e.timedOut(), e.getMessage());
            assertTrue(e.getMessage().contains("timeout of 5 ms"), e.getMessage());
            assertTrue(millis < STOP_GUARD_MS, "a run with a 5 ms timeout took " + millis + " ms");
        }
        assertStillComputesTheSame();
    }

    @Test
    void cancelHandleStopsARunFromAnotherThread() throws Exception {
        CancelHandle handle = new CancelHandle();
        CompletableFuture<Map<String, Tensor>> run = model.runAsync(Map.of("x", image),
                RunOptions.NONE.withCancellation(handle));
        Thread.sleep(20);
        long cancelled = System.nanoTime();
        handle.cancel();
        var e = assertThrows(ExecutionException.class, () -> run.get(STOP_GUARD_MS, TimeUnit.MILLISECONDS));
        long millis = (System.nanoTime() - cancelled) / 1_000_000;
        var stop = assertInstanceOf(RunCancelledException.class, e.getCause());
        assertFalse(stop.timedOut());
        System.out.printf("reference conv stack: the run ended %d ms after its cancel%n", millis);
        assertStillComputesTheSame();
        // A handle stays cancelled: the next run with it ends at once.
        assertThrows(RunCancelledException.class, () -> model.run(Map.of("x", image), RunOptions.NONE
                .withCancellation(handle)));
    }

    @Test
    void cancellingTheFutureStopsTheRunAndFreesItsOutputs() throws Exception {
        long tensors = Tensor.allocatedBytes();
        CompletableFuture<Map<String, Tensor>> run = model.runAsync(Map.of("x", image));
        Thread.sleep(20);
        assertTrue(run.cancel(true));
        assertThrows(CancellationException.class, run::join);
        // The run ends at its next check and closes the outputs nobody will get.
        long deadline = System.nanoTime() + STOP_GUARD_MS * 1_000_000;
        while (Tensor.allocatedBytes() > tensors && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(Tensor.allocatedBytes() <= tensors, "the cancelled run's outputs are still open");
        assertStillComputesTheSame();
    }

    @Test
    void asyncRunsComputeWhatSynchronousOnesDo() throws Exception {
        Map<String, Tensor> out = model.runAsync(Map.of("x", image)).get(60, TimeUnit.SECONDS);
        try (Tensor y = out.values().iterator().next(); Tensor bound = Tensor.allocate(1, CHANNELS, SIZE, SIZE)) {
            assertArrayEquals(expected, y.toFloatArray());
            model.runAsync(Map.of("x", image), Map.of(graph.outputs().getFirst(), bound), RunOptions.NONE)
                    .get(60, TimeUnit.SECONDS);
            assertArrayEquals(expected, bound.toFloatArray());
        }
    }

    @Test
    void badOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RunOptions(Duration.ZERO, null));
        assertThrows(IllegalArgumentException.class, () -> new RunOptions(Duration.ofMillis(-1), null));
    }
}
