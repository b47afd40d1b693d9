package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One compiled model used from several threads at once, and at several batch sizes. A small
 * classifier: 3x3 conv with ReLU, global average pool, fully connected layer, softmax, with a
 * symbolic batch.
 */
class ConcurrentRunTest {
    private static final int CHANNELS = 3, SIZE = 8, FEATURES = 6, CLASSES = 5;
    private static final Shape ONE_IMAGE = Shape.of(1, CHANNELS, SIZE, SIZE);
    private static final int IMAGE_VALUES = CHANNELS * SIZE * SIZE;

    private static Graph graph;
    private static CompiledModel model;

    @BeforeAll
    static void compile() {
        GraphBuilder b = new GraphBuilder("classifier");
        b.input("image", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        b.initializer("conv_w", Tensor.of(Shape.of(FEATURES, CHANNELS, 3, 3), uniform(FEATURES * CHANNELS * 9, 1)));
        b.initializer("conv_b", Tensor.of(Shape.of(FEATURES), uniform(FEATURES, 2)));
        b.initializer("fc_w", Tensor.of(Shape.of(CLASSES, FEATURES), uniform(CLASSES * FEATURES, 3)));
        b.initializer("fc_b", Tensor.of(Shape.of(CLASSES), uniform(CLASSES, 4)));
        b.add("conv", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                "image", "conv_w", "conv_b");
        b.add("pool", GlobalPool.AVERAGE, "conv");
        b.add("flat", new Flatten(1), "pool");
        b.add("fc", Gemm.FULLY_CONNECTED, "flat", "fc_w", "fc_b");
        b.add("probabilities", new Softmax(-1), "fc");
        b.output("probabilities");
        graph = b.build();
        model = Engine.withBackends(List.of(new ReferenceBackend())).compile(graph, ReferenceBackend.ID);
    }

    @AfterAll
    static void close() {
        model.close();
        graph.close();
    }

    private static float[] image(int seed) {
        return uniform(IMAGE_VALUES, 1000 + seed);
    }

    private static float[] classify(Shape shape, float[] values) {
        try (Tensor x = Tensor.of(shape, values); Tensor y = model.run(x)) {
            return y.toFloatArray();
        }
    }

    @Test
    void fourThreadsGetTheSameAnswersAsOne() throws Exception {
        int inputs = 8, threads = 4, runsPerThread = 50;
        List<float[]> images = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            images.add(image(i));
            expected.add(classify(ONE_IMAGE, images.get(i)));
        }
        // Different inputs give different answers, so a mixed-up result would be noticed.
        for (int i = 1; i < inputs; i++) {
            assertTrue(expected.get(i)[0] != expected.get(0)[0], "inputs 0 and " + i + " classify alike");
        }

        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < runsPerThread; r++) {
                        // Each thread walks the inputs from its own starting point.
                        int i = (thread * 3 + r) % inputs;
                        assertArrayEquals(expected.get(i), classify(ONE_IMAGE, images.get(i)),
                                "thread " + thread + ", run " + r + ", input " + i);
                    }
                    return runsPerThread;
                }));
            }
            int runs = 0;
            for (Future<Integer> f : done) {
                runs += f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(threads * runsPerThread, runs);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void batchSizesOneThreeThenOneAgain() {
        float[][] singles = new float[3][];
        float[] batch = new float[3 * IMAGE_VALUES];
        for (int i = 0; i < 3; i++) {
            float[] img = image(100 + i);
            System.arraycopy(img, 0, batch, i * IMAGE_VALUES, IMAGE_VALUES);
            singles[i] = classify(ONE_IMAGE, img);
        }
        float[] first = singles[0];

        float[] batched = classify(Shape.of(3, CHANNELS, SIZE, SIZE), batch);
        assertEquals(3 * CLASSES, batched.length);
        for (int i = 0; i < 3; i++) {
            float[] row = new float[CLASSES];
            System.arraycopy(batched, i * CLASSES, row, 0, CLASSES);
            assertArrayEquals(singles[i], row, "image " + i + " of the batch");
        }

        float[] again = new float[IMAGE_VALUES];
        System.arraycopy(batch, 0, again, 0, IMAGE_VALUES);
        assertArrayEquals(first, classify(ONE_IMAGE, again));
        assertEquals(Shape.of(3, CLASSES), model.planForBatch(3).shapes().get("probabilities"));
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
