package dev.kiln.conformance.blocked;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.Partition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partitioning and fallback with a backend whose memory and layout are its own: which nodes run
 * where, how they group into partitions, where data is converted, and that the results match
 * the reference backend.
 */
class BlockedBackendTest {
    private static final long SEED = 7;
    /** The graphs are compiled as written: the optimizer would fuse the Relus into the convolutions. */
    private static final CompileOptions AS_WRITTEN = new CompileOptions(Engine.AUTO, false);

    /**
     * conv1 -> relu1 -> pool -> conv2 (groups 4) -> relu2 -> conv3 (1x1, + residual pool, Relu)
     * -> add (conv3 + pool) -> flatten -> fc. The blocked backend runs the convolutions, the
     * Relus and the Add; MaxPool, Flatten and Gemm fall back to the reference backend. Channel
     * counts (20) are not a multiple of the block size (16), so padding lanes are exercised.
     */
    private static Graph mixedGraph() {
        GraphBuilder b = new GraphBuilder("mixed");
        b.input("x", Shape.of(Shape.DYNAMIC, 3, 8, 8));
        weight(b, "w1", 20, 3, 3, 3);
        weight(b, "b1", 20);
        weight(b, "w2", 20, 5, 3, 3);
        weight(b, "b2", 20);
        weight(b, "w3", 20, 20, 1, 1);
        weight(b, "b3", 20);
        weight(b, "wfc", 10, 320);
        weight(b, "bfc", 10);
        b.add("conv1", new Conv(Window.square(3, 1, 1), 1), "x", "w1", "b1");
        b.add("relu1", new Activation(ActivationFunction.RELU), "conv1");
        b.add("pool", new MaxPool(Window.square(2, 2, 0), false), "relu1");
        b.add("conv2", new Conv(Window.square(3, 1, 1), 4), "pool", "w2", "b2");
        b.add("relu2", new Activation(ActivationFunction.RELU), "conv2");
        b.add("conv3", new Conv(Window.of(1, 1), 1,
                List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                "relu2", "w3", "b3", "pool");
        b.add("add", Binary.ADD, "conv3", "pool");
        b.add("flatten", new Flatten(1), "add");
        b.add("fc", Gemm.FULLY_CONNECTED, "flatten", "wfc", "bfc");
        b.output("fc");
        return b.build();
    }

    /** conv -> relu -> conv -> add(x): all four on the blocked backend. */
    private static Graph coveredGraph() {
        GraphBuilder b = new GraphBuilder("covered");
        b.input("x", Shape.of(Shape.DYNAMIC, 18, 6, 6));
        weight(b, "w1", 24, 18, 3, 3);
        weight(b, "w2", 18, 24, 3, 3);
        weight(b, "b2", 18);
        b.add("conv1", new Conv(Window.square(3, 1, 1), 1), "x", "w1");
        b.add("relu", new Activation(ActivationFunction.RELU), "conv1");
        b.add("conv2", new Conv(Window.square(3, 1, 1), 1), "relu", "w2", "b2");
        b.add("add", Binary.ADD, "conv2", "x");
        b.output("add");
        return b.build();
    }

    private static void weight(GraphBuilder b, String name, int... dims) {
        b.initializer(name, RandomTensors.uniform(Shape.of(dims), SEED, name, -0.5f, 0.5f));
    }

    private static List<String> nodeNames(Partition p) {
        return p.nodes().stream().map(n -> n.node().name()).toList();
    }

    @Test
    void supportedNodesRunOnTheBlockedBackendAndTheRestFallBack() {
        BlockedTestBackend blocked = new BlockedTestBackend();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), blocked));
        try (Graph graph = mixedGraph(); CompiledModel model = engine.compile(graph, AS_WRITTEN.withBackend(BlockedTestBackend.ID))) {
            assertEquals("test-blocked", model.backend());
            for (PlanReport.Placement p : model.placements()) {
                boolean fallsBack = List.of("pool", "flatten", "fc").contains(p.node());
                assertEquals(fallsBack ? "reference" : "test-blocked", p.backend(), p.toString());
                if (fallsBack) {
                    assertTrue(p.reason().startsWith("fallback: test-blocked cannot run it ("), p.reason());
                } else {
                    assertEquals("chosen backend", p.reason());
                }
            }
        }
    }

    @Test
    void aChainOfSupportedNodesIsOnePartition() {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new BlockedTestBackend()));
        try (Graph graph = mixedGraph(); CompiledModel model = engine.compile(graph, AS_WRITTEN.withBackend(BlockedTestBackend.ID))) {
            ExecutionPlan plan = InternalAccess.plan(model, 1);
            List<Partition> partitions = plan.partitions();
            assertEquals(4, partitions.size());
            assertEquals(List.of("conv1", "relu1"), nodeNames(partitions.get(0)));
            assertEquals(List.of("pool"), nodeNames(partitions.get(1)));
            assertEquals(List.of("conv2", "relu2", "conv3", "add"), nodeNames(partitions.get(2)));
            assertEquals(List.of("flatten", "fc"), nodeNames(partitions.get(3)));
            assertEquals(List.of("test-blocked", "reference", "test-blocked", "reference"),
                    List.of(plan.backendOf(0), plan.backendOf(1), plan.backendOf(2), plan.backendOf(3)));
            // Only the values that cross a boundary are partition inputs and outputs: inside
            // the third partition, conv2 -> relu2 -> conv3 -> add never leave the backend.
            assertEquals(List.of("pool"), partitions.get(2).inputs());
            assertEquals(List.of("add"), partitions.get(2).outputs());
        }
    }

    @Test
    void convertsOnlyAtPartitionBoundaries() {
        BlockedTestBackend blocked = new BlockedTestBackend();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), blocked));
        try (Graph graph = mixedGraph(); CompiledModel model = engine.compile(graph, AS_WRITTEN.withBackend(BlockedTestBackend.ID))) {
            assertEquals(0, blocked.uploads(), "compiling converts no activations");
            try (Tensor x = RandomTensors.uniform(Shape.of(1, 3, 8, 8), SEED, "x", -1, 1); Tensor y = model.run(x)) {
                assertEquals(Shape.of(1, 10), y.shape());
                // One upload per blocked partition (x into the first, pool into the third) and one
                // download each (relu1 and add), however many nodes the partitions hold.
                assertEquals(2, blocked.uploads());
                assertEquals(2, blocked.downloads());
            }
            try (Tensor x = RandomTensors.uniform(Shape.of(3, 3, 8, 8), SEED, "x", -1, 1); Tensor y = model.run(x)) {
                assertEquals(Shape.of(3, 10), y.shape());
                assertEquals(4, blocked.uploads(), "the count is per boundary, not per image");
                assertEquals(4, blocked.downloads());
            }
        }
    }

    @Test
    void aGraphItCoversIsOnePartitionWithOneConversionEachWay() {
        BlockedTestBackend blocked = new BlockedTestBackend();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), blocked));
        try (Graph graph = coveredGraph(); CompiledModel model = engine.compile(graph, AS_WRITTEN.withBackend(Engine.AUTO))) {
            assertEquals("test-blocked", model.backend(), model.selectionExplanation());
            assertEquals(1, InternalAccess.plan(model, 2).partitions().size());
            for (int run = 1; run <= 2; run++) {
                try (Tensor x = RandomTensors.uniform(Shape.of(2, 18, 6, 6), SEED, "x", -1, 1);
                     Tensor y = model.run(x)) {
                    assertEquals(Shape.of(2, 18, 6, 6), y.shape());
                    assertEquals(run, blocked.uploads());
                    assertEquals(run, blocked.downloads());
                }
            }
        }
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 3})
    void mixedGraphMatchesTheReferenceBackend(int batch) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new BlockedTestBackend()));
        try (Graph graph = mixedGraph();
             CompiledModel blocked = engine.compile(graph, AS_WRITTEN.withBackend(BlockedTestBackend.ID));
             CompiledModel reference = engine.compile(graph, AS_WRITTEN.withBackend(ReferenceBackend.ID));
             Tensor x = RandomTensors.uniform(Shape.of(batch, 3, 8, 8), SEED, "x", -1, 1);
             Tensor actual = blocked.run(x);
             Tensor expected = reference.run(x)) {
            assertEquals(Shape.of(batch, 10), actual.shape());
            // Four reducing layers, the longest over 320 terms.
            Tolerance.Comparison c = Tolerance.forNetwork(320, 4).compare(actual.toFloatArray(),
                    expected.toFloatArray());
            assertTrue(c.passed(), c::toString);
            assertTrue(c.scale() > 0.1, "the outputs must not be near zero, or the comparison says little: " + c);
        }
    }

    @Test
    void concurrentRunsEachGetTheirOwnBuffers() throws Exception {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new BlockedTestBackend()));
        try (Graph graph = mixedGraph();
             CompiledModel model = engine.compile(graph, AS_WRITTEN.withBackend(BlockedTestBackend.ID));
             CompiledModel reference = engine.compile(graph, AS_WRITTEN.withBackend(ReferenceBackend.ID))) {
            int threads = 4;
            List<float[]> expected = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                try (Tensor x = RandomTensors.uniform(Shape.of(2, 3, 8, 8), SEED, "x" + t, -1, 1);
                     Tensor y = reference.run(x)) {
                    expected.add(y.toFloatArray());
                }
            }
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                List<Future<float[]>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    String name = "x" + t;
                    results.add(pool.submit(() -> {
                        float[] last = null;
                        for (int repeat = 0; repeat < 20; repeat++) {
                            try (Tensor x = RandomTensors.uniform(Shape.of(2, 3, 8, 8), SEED, name, -1, 1);
                                 Tensor y = model.run(x)) {
                                last = y.toFloatArray();
                            }
                        }
                        return last;
                    }));
                }
                for (int t = 0; t < threads; t++) {
                    Tolerance.Comparison c = Tolerance.forNetwork(320, 4).compare(results.get(t).get(),
                            expected.get(t));
                    assertTrue(c.passed(), "thread " + t + ": " + c);
                }
            }
        }
    }
}
