package dev.kiln.selection;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.PlanReport;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.runtime.MixedPlanner;
import dev.kiln.runtime.Selector;
import dev.kiln.spi.Backend;
import dev.kiln.spi.KernelRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mixed plan with two test backends, each fast at one op (1 ms a node) and slow at the other
 * (20 ms), on a chain of four ReLUs then four sigmoids: alone, each takes 84 ms a run; mixed, 8 ms
 * and its one boundary. Their speeds are sleeps, with margins wide enough for a loaded machine
 * (at load 28 on 2 cores a 1 ms sleep was seen to take several).
 */
class MixedPlanTest {
    @TempDir
    Path dir;
    private Graph graph;

    @BeforeEach
    void setUp() {
        GraphBuilder b = new GraphBuilder("relus-then-sigmoids");
        b.input("x", Shape.of(1, 16, 8, 8)); // 4 KiB
        String v = "x";
        for (int i = 1; i <= 4; i++) {
            v = b.add("r" + i, new Activation(ActivationFunction.RELU), v);
        }
        for (int i = 1; i <= 4; i++) {
            v = b.add("s" + i, new Activation(ActivationFunction.SIGMOID), v);
        }
        b.output(v);
        graph = b.build();
        Selector.forgetRemembered();
    }

    @AfterEach
    void tearDown() {
        graph.close();
        Selector.forgetRemembered();
    }

    private EngineOptions options(SelectionPolicy policy) {
        return EngineOptions.defaults().withThreads(1).withSelection(policy)
                .withSelectionBudget(Duration.ofSeconds(10)).withCacheRoot(dir.resolve("cache"));
    }

    private static Engine engine(EngineOptions options, Backend... backends) {
        return Engine.withBackends(List.of(backends), KernelRegistry.discover(), options);
    }

    /** Fast at ReLU. */
    private static OpCostBackend relus(double transferMillisPerKiB, long laterPartitionMillis) {
        return new OpCostBackend("relus", 200, 1, 20, transferMillisPerKiB, laterPartitionMillis);
    }

    /** Fast at sigmoid. */
    private static OpCostBackend sigmoids(double transferMillisPerKiB, long laterPartitionMillis) {
        return new OpCostBackend("sigmoids", 100, 20, 1, transferMillisPerKiB, laterPartitionMillis);
    }

    private static Map<String, String> backendByNode(CompiledModel model) {
        return model.placements().stream().collect(Collectors.toMap(PlanReport.Placement::node, PlanReport.Placement::backend));
    }

    /** The model computes sigmoid(relu(x)) (a ReLU of a ReLU is one ReLU, and so on), checked element by element. */
    private static void assertComputes(CompiledModel model) {
        float[] in = new float[16 * 8 * 8];
        for (int i = 0; i < in.length; i++) {
            in[i] = (i % 17 - 8) / 3f;
        }
        try (Tensor x = Tensor.of(Shape.of(1, 16, 8, 8), in); Tensor y = model.run(x)) {
            float[] out = y.toFloatArray();
            for (int i = 0; i < in.length; i++) {
                double expected = sigmoid(sigmoid(sigmoid(sigmoid(Math.max(0, in[i])))));
                assertEquals(expected, out[i], 1e-5, "element " + i);
            }
        }
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    private static Candidate candidate(Selection s, String id) {
        return s.candidates().stream().filter(c -> c.backend().equals(id)).findFirst().orElse(null);
    }

    @Test
    void theMixedPlanWinsWhenItWinsAsAWhole() {
        OpCostBackend relus = relus(0, 0);
        OpCostBackend sigmoids = sigmoids(0, 0);
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), relus, sigmoids)
                .compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertEquals(MixedPlan.ID, s.winner(), s.explanation() + "\n" + s.candidates() + "\n" + s.mixed());
            assertTrue(s.mixedWon());
            MixedPlan mixed = s.mixed();
            assertEquals(MixedPlan.Status.MEASURED, mixed.status(), mixed.note());
            assertEquals(2, mixed.segments().size(), mixed.describe());
            assertEquals("relus", mixed.segments().get(0).backend());
            assertEquals(List.of(0, 3), List.of(mixed.segments().get(0).firstNode(), mixed.segments().get(0).lastNode()));
            assertEquals("sigmoids", mixed.segments().get(1).backend());
            assertEquals(4 * 1024, mixed.segments().get(1).bytesIn(), "one 4 KiB value crosses");
            assertFalse(Double.isNaN(mixed.segments().get(1).measuredTransferMillis()), "the boundary was timed");
            Candidate m = candidate(s, MixedPlan.ID);
            assertEquals(Candidate.Outcome.MEASURED, m.outcome());
            assertTrue(m.medianMillis() < candidate(s, "relus").medianMillis(), s.explanation());
            assertTrue(m.medianMillis() < candidate(s, "sigmoids").medianMillis(), s.explanation());
            assertTrue(s.explanation().contains("the mixed plan runs relus nodes 0-3"), s.explanation());
            Map<String, String> on = backendByNode(model);
            for (int i = 1; i <= 4; i++) {
                assertEquals("relus", on.get("r" + i));
                assertEquals("sigmoids", on.get("s" + i));
            }
            assertEquals(2, model.planForBatch(1).partitions().size());
            assertComputes(model);
        }
        // A later start: the cache holds the mixed plan, and only its plan is compiled.
        Selector.forgetRemembered();
        OpCostBackend relusAgain = relus(0, 0);
        OpCostBackend sigmoidsAgain = sigmoids(0, 0);
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), relusAgain, sigmoidsAgain)
                .compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertEquals(Selection.CacheUse.HIT, s.cache());
            assertEquals(MixedPlan.ID, s.winner());
            assertEquals(MixedPlan.Status.CACHED, s.mixed().status());
            assertEquals("sigmoids", backendByNode(model).get("s1"));
            assertEquals("relus", backendByNode(model).get("r4"));
            assertComputes(model);
        }
        assertEquals(1, relusAgain.compiles.get(), "one partition each, compiled once");
        assertEquals(1, sigmoidsAgain.compiles.get());
    }

    @Test
    void boundaryCostsThatEatTheGainKeepASingleBackend() {
        // 10 ms per KiB each way: a boundary moves 4 KiB down and up again (80 ms and the download's
        // own 40), more than the 76 ms the faster ops would save.
        OpCostBackend relus = relus(10, 0);
        OpCostBackend sigmoids = sigmoids(10, 0);
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), relus, sigmoids)
                .compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertTrue(List.of("relus", "sigmoids").contains(s.winner()), s.explanation());
            assertEquals(MixedPlan.Status.NO_GAIN, s.mixed().status(), s.mixed().note());
            assertTrue(s.mixed().note().contains("cheapest"), s.mixed().note());
            assertEquals(null, candidate(s, MixedPlan.ID), "not compiled, so not a candidate");
            assertEquals(1, model.planForBatch(1).partitions().size());
            assertTrue(s.explanation().contains("mixed plan: "), s.explanation());
            assertComputes(model);
        }
        assertEquals(1, relus.compiles.get(), "no mixed plan was compiled");
        assertEquals(1, sigmoids.compiles.get());
    }

    @Test
    void aMixedPlanPredictedToWinButSlowerAsAWholeLoses() {
        // Each partition after a plan's first costs 150 ms a run, which no single-backend profile
        // shows: the plan predicts ~9 ms, is compiled and measured (~158 ms), and loses to 84 ms.
        OpCostBackend relus = relus(0, 150);
        OpCostBackend sigmoids = sigmoids(0, 150);
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), relus, sigmoids)
                .compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertTrue(List.of("relus", "sigmoids").contains(s.winner()), s.explanation());
            assertEquals(MixedPlan.Status.MEASURED, s.mixed().status(), s.mixed().note());
            assertTrue(s.mixed().predictedMillis() < s.mixed().bestSinglePredictedMillis(), s.mixed().toString());
            Candidate m = candidate(s, MixedPlan.ID);
            assertEquals(Candidate.Outcome.MEASURED, m.outcome(), m.toString());
            assertTrue(m.medianMillis() > candidate(s, s.winner()).medianMillis(), s.explanation());
            assertEquals(1, model.planForBatch(1).partitions().size());
            assertComputes(model);
        }
    }

    @Test
    void backendsThatDoNotTimeNodesLeaveNoMixedPlan() {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), new TimedBackend("slow", 300, "1", 20),
                new TimedBackend("fast", 100, "1", 0)).compile(graph, Engine.AUTO)) {
            Selection s = model.selection();
            assertEquals("fast", s.winner());
            assertEquals(MixedPlan.Status.NOT_PLANNED, s.mixed().status());
            assertTrue(s.mixed().note().contains("fast: it does not time nodes one by one"), s.mixed().note());
        }
    }

    @Test
    void theCutBetweenTwoNodesCountsEveryValueAliveAcrossIt() {
        // x -> a -> b -> c, and d reads x and c: x stays alive to d across every cut.
        GraphBuilder b = new GraphBuilder("skip");
        b.input("x", Shape.of(1, 4));
        b.add("a", new Activation(ActivationFunction.RELU), "x");
        b.add("b", new Activation(ActivationFunction.RELU), "a");
        b.add("c", new Activation(ActivationFunction.RELU), "b");
        b.add("d", dev.kiln.graph.ops.Binary.ADD, "x", "c");
        b.output("d");
        try (Graph g = b.build()) {
            long[] cut = MixedPlanner.cutBytes(g, g.inferShapes(g.inputShapesForBatch(1)));
            assertEquals(List.of(32L, 32L, 32L), java.util.Arrays.stream(cut).boxed().toList(),
                    "x (16 bytes) and the chain's value (16 bytes) at each cut");
        }
    }
}
