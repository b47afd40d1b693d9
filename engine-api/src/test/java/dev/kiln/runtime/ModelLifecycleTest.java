package dev.kiln.runtime;

import dev.kiln.CompileOptions;
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
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.KernelRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compiled model's life: weights prepared once for every batch size, a bounded plan cache,
 * lazy availability probes, and close while other threads run it.
 */
class ModelLifecycleTest {
    private static final int CHANNELS = 4, SIZE = 6, FEATURES = 8;
    private Graph graph;

    @BeforeEach
    void build() {
        GraphBuilder b = new GraphBuilder("lifecycle");
        b.input("image", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        b.initializer("w", Tensor.of(Shape.of(FEATURES, CHANNELS, 3, 3), uniform(FEATURES * CHANNELS * 9, 1)));
        b.initializer("b", Tensor.of(Shape.of(FEATURES), uniform(FEATURES, 2)));
        b.add("conv", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                "image", "w", "b");
        b.add("pool", GlobalPool.AVERAGE, "conv");
        b.output("pool");
        graph = b.build();
    }

    @AfterEach
    void close() {
        graph.close();
    }

    private static Engine engine(TrackingBackend backend, int cachedPlans) {
        return Engine.withBackends(List.of(backend, new ReferenceBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withCachedPlans(cachedPlans));
    }

    private static float[] run(CompiledModel model, int batch, int seed) {
        Shape shape = Shape.of(batch, CHANNELS, SIZE, SIZE);
        try (Tensor x = Tensor.of(shape, uniform((int) shape.elementCount(), seed)); Tensor y = model.run(x)) {
            return y.toFloatArray();
        }
    }

    @Test
    void weightsArePreparedOncePerModelNotPerBatchSize() {
        TrackingBackend backend = new TrackingBackend("tracking", 10);
        long weightBytes = (FEATURES * CHANNELS * 9 + FEATURES) * 4L;
        try (CompiledModel model = engine(backend, 8).compile(graph, "tracking")) {
            assertEquals(weightBytes, model.preparedWeightBytes());
            run(model, 1, 3);
            run(model, 4, 3);
            run(model, 1, 3);
            assertEquals(2, backend.partitionsCompiled.get(), "one partition per batch size");
            assertEquals(weightBytes, model.preparedWeightBytes(), "batch 4 reused batch 1's weights");
        }
    }

    @Test
    void thePlanCacheIsBoundedAndDroppedPlansAreFreed() {
        TrackingBackend backend = new TrackingBackend("tracking", 10);
        try (CompiledModel model = engine(backend, 2).compile(graph, "tracking")) {
            float[] first = run(model, 1, 5);
            for (int batch = 1; batch <= 6; batch++) {
                run(model, batch, 5);
                assertTrue(model.cachedPlanCount() <= 2, "plans cached: " + model.cachedPlanCount());
            }
            assertEquals(2, backend.openPartitions.size(), "dropped plans freed their partitions");
            assertArrayEquals(first, run(model, 1, 5), "a recompiled plan computes the same");
        }
        assertEquals(List.of(), backend.violations);
        assertEquals(0, backend.openPartitions.size());
        assertEquals(0, backend.openWorkspaces.size());
    }

    @Test
    void anExplicitChoiceProbesNoOtherBackend() {
        TrackingBackend other = new TrackingBackend("other", 500);
        Engine engine = Engine.withBackends(List.of(other, new ReferenceBackend()));
        try (CompiledModel model = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, true))) {
            run(model, 1, 1);
        }
        assertEquals(0, other.probes.get(), "the unused backend was probed");
        engine.compile(graph, new CompileOptions("auto", true)).close();
        assertEquals(1, other.probes.get(), "auto probes each backend once");
    }

    @Test
    void closeWhileManyThreadsRunWaitsForThemAndLeaksNothing() throws Exception {
        for (int round = 0; round < 10; round++) {
            TrackingBackend backend = new TrackingBackend("tracking", 10);
            CompiledModel model = engine(backend, 3).compile(graph, "tracking");
            float[] expected = run(model, 2, 7);
            int threads = 6;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            AtomicInteger completed = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            // The close comes after this many runs have completed, all threads together: a later
            // point in each round, set by the runs themselves rather than by a clock.
            CountDownLatch closeAfter = new CountDownLatch(1 + round * 5);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int r = 0; ; r++) {
                        try {
                            // Batch sizes vary so that plans are compiled and dropped during the close.
                            float[] y = run(model, 1 + (thread + r) % 4, 7);
                            if (y.length == expected.length) {
                                assertArrayEquals(expected, y);
                            }
                            completed.incrementAndGet();
                            closeAfter.countDown();
                        } catch (IllegalStateException e) {
                            assertTrue(e.getMessage().contains("closed"), e.getMessage());
                            refused.incrementAndGet();
                            return;
                        }
                    }
                }));
            }
            assertTrue(closeAfter.await(60, TimeUnit.SECONDS), "round " + round + ": the runs did not progress");
            model.close();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS); // a hang guard only
            }
            pool.shutdown();
            assertEquals(threads, refused.get(), "every thread saw the close");
            assertTrue(completed.get() >= 1 + round * 5, "round " + round);
            assertEquals(List.of(), backend.violations, "round " + round);
            assertEquals(0, backend.openWorkspaces.size(), "round " + round + ": workspaces leaked");
            assertEquals(0, backend.openPartitions.size(), "round " + round + ": partitions leaked");
            assertThrows(IllegalStateException.class, () -> run(model, 1, 7));
            model.close(); // twice is harmless
        }
    }

    /**
     * A plan dropped from the cache while a run is in flight on it frees itself when that run
     * ends; the weights it runs with are the model's, so the model's close must wait for that run
     * too. The run is held inside its execution until the closing thread waits: on a native
     * backend, freeing the weights under it is a use-after-free.
     */
    @Test
    void closeWaitsForARunOnAPlanDroppedFromTheCache() throws Exception {
        TrackingBackend backend = new TrackingBackend("tracking", 10);
        backend.ownThreads = true; // runs stay on the threads below, none held in the engine's pool
        CompiledModel model = engine(backend, 2).compile(graph, "tracking");
        float[] expected = run(model, 1, 11);
        TrackingBackend.Gate gate = new TrackingBackend.Gate();
        backend.gate.set(gate);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<float[]> held = pool.submit(() -> run(model, 1, 11));
            assertTrue(gate.entered().await(60, TimeUnit.SECONDS), "the run did not start"); // a hang guard
            run(model, 2, 11);
            run(model, 3, 11); // batch 1's plan leaves the cache, its run still in flight
            assertEquals(2, model.cachedPlanCount());
            Thread closer = new Thread(model::close, "closer");
            closer.start();
            // The closer either waits (for the held run) or has already freed everything.
            long guard = System.nanoTime() + 60_000_000_000L; // a hang guard: it gets there at once
            while (closer.isAlive() && closer.getState() != Thread.State.WAITING) {
                assertTrue(System.nanoTime() < guard, "the closer neither waited nor ended: " + closer.getState());
                Thread.onSpinWait();
            }
            gate.release().countDown();
            assertArrayEquals(expected, held.get(60, TimeUnit.SECONDS));
            closer.join();
        } finally {
            gate.release().countDown();
            pool.shutdownNow();
        }
        assertEquals(List.of(), backend.violations);
        assertEquals(0, backend.openWorkspaces.size(), "workspaces leaked");
        assertEquals(0, backend.openPartitions.size(), "partitions leaked");
    }

    @Test
    void aRunStaysOnTheCallersThreadOnlyWhenNoPartitionComputesOnHostThreads() {
        float[] expected;
        try (CompiledModel model = engine(new TrackingBackend("tracking", 10), 8).compile(graph, "tracking")) {
            expected = run(model, 2, 9);
        }
        String caller = Thread.currentThread().getName();

        TrackingBackend own = new TrackingBackend("tracking", 10);
        own.ownThreads = true;
        try (CompiledModel model = engine(own, 8).compile(graph, "tracking")) {
            assertArrayEquals(expected, run(model, 2, 9));
            assertEquals(java.util.Set.of(caller), own.executedOn, "every partition has threads of its own");
        }

        TrackingBackend host = new TrackingBackend("tracking", 10);
        try (CompiledModel model = engine(host, 8).compile(graph, "tracking")) {
            assertArrayEquals(expected, run(model, 2, 9));
            assertWorkers(host.executedOn);
        }

        // Its own threads for the convolution, the reference backend's host kernels for the pool.
        TrackingBackend mixed = new TrackingBackend("tracking", 10);
        mixed.ownThreads = true;
        mixed.refused = GlobalPool.class;
        try (CompiledModel model = engine(mixed, 8).compile(graph, "tracking")) {
            assertArrayEquals(expected, run(model, 2, 9));
            assertWorkers(mixed.executedOn);
        }
    }

    private static void assertWorkers(java.util.Set<String> threads) {
        assertFalse(threads.isEmpty(), "executed");
        threads.forEach(n -> assertTrue(n.startsWith("kiln-worker-"), n + " is not a host worker"));
    }

    @Test
    void theEngineOwnsOneThreadPoolOfTheConfiguredSize() {
        HostThreadPool pool = HostThreadPool.shared(3);
        assertEquals(3, pool.parallelism());
        assertTrue(pool == HostThreadPool.shared(3), "engines of one size share a pool");
        int[] hits = new int[1000];
        java.util.Set<String> names = java.util.concurrent.ConcurrentHashMap.newKeySet();
        pool.parallelFor(hits.length, i -> {
            hits[i]++;
            names.add(Thread.currentThread().getName());
        });
        for (int i = 0; i < hits.length; i++) {
            assertEquals(1, hits[i], "task " + i);
        }
        assertFalse(names.isEmpty());
        names.forEach(n -> assertTrue(n.startsWith("kiln-worker-3-"), n));
        assertThrows(IllegalArgumentException.class, () -> new EngineOptions(0, 1, 1, 1));
    }

    /** Uniform in [-1, 1) from a fixed seed: input data that any run can regenerate. */
    private static float[] uniform(int n, long seed) {
        java.util.Random random = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }
}
