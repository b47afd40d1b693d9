package dev.kiln.selection;

import dev.kiln.BackendUnavailableException;
import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.PlanReport;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.Selector;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Placement pins in {@link CompileOptions}: honoured by placement and selection, and loud when they cannot be. */
class PinnedPlacementTest {
    @TempDir
    Path dir;
    private Graph graph;

    @BeforeEach
    void setUp() {
        // relu -> identity (removed by the optimizer) -> sigmoid -> relu
        GraphBuilder b = new GraphBuilder("pins");
        b.input("x", Shape.of(1, 4));
        b.add("r1", new Activation(ActivationFunction.RELU), "x");
        b.add("id", Passthrough.IDENTITY, "r1");
        b.add("s1", new Activation(ActivationFunction.SIGMOID), "id");
        b.add("r2", new Activation(ActivationFunction.RELU), "s1");
        b.output("r2");
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
                .withSelectionBudget(Duration.ofSeconds(5)).withCacheRoot(dir.resolve("cache"));
    }

    private static Engine engine(EngineOptions options, Backend... backends) {
        return Engine.withBackends(List.of(backends), KernelRegistry.discover(), options);
    }

    private static OpCostBackend plain(String id, int rank) {
        return new OpCostBackend(id, rank, 0, 0, 0, 0);
    }

    private static Map<String, PlanReport.Placement> placed(CompiledModel model) {
        return model.placements().stream().collect(Collectors.toMap(PlanReport.Placement::node, p -> p));
    }

    private static void assertComputes(CompiledModel model) {
        try (Tensor x = Tensor.of(Shape.of(1, 4), -2, 0, 1, 3); Tensor y = model.run(x)) {
            float[] expected = new float[4];
            float[] in = {-2, 0, 1, 3};
            for (int i = 0; i < 4; i++) {
                expected[i] = (float) (1 / (1 + Math.exp(-Math.max(0, in[i]))));
            }
            assertArrayEquals(expected, y.toFloatArray(), 1e-6f);
        }
    }

    /** The reference backend's kernels, refusing every sigmoid. */
    private static final class NoSigmoidBackend implements Backend {
        private final ReferenceBackend delegate = new ReferenceBackend();

        @Override
        public String id() {
            return "no-sigmoid";
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            if (node.node().op() instanceof Activation a && a.function().kind() == ActivationFunction.Kind.SIGMOID) {
                return Support.no("this test backend has no sigmoid");
            }
            return delegate.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            return delegate.compile(partition, context);
        }
    }

    @Test
    void aPinnedNodeRunsOnItsBackendAndTheOthersOnTheChosenOne() {
        Engine engine = engine(options(SelectionPolicy.RANK), plain("a", 200), plain("b", 100),
                new ReferenceBackend());
        try (CompiledModel model = engine.compile(graph, new CompileOptions("a", true).withPin("s1", "b"))) {
            Map<String, PlanReport.Placement> on = placed(model);
            assertEquals("b", on.get("s1").backend());
            assertEquals("pinned to b", on.get("s1").reason());
            assertEquals("a", on.get("r1").backend());
            assertEquals("a", on.get("r2").backend());
            assertEquals(3, model.planForBatch(1).partitions().size());
            assertComputes(model);
        }
        try (CompiledModel model = engine.compile(graph, new CompileOptions("a", true).withPin("r1", "reference"))) {
            assertEquals("reference", placed(model).get("r1").backend(), "the reference backend can be pinned to");
            assertComputes(model);
        }
    }

    @Test
    void anUnknownNodeOrBackendFailsNamingIt() {
        Engine engine = engine(options(SelectionPolicy.RANK), plain("a", 200), plain("b", 100));
        KilnException node = assertThrows(KilnException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("nope", "b")));
        assertTrue(node.getMessage().contains("'nope'") && node.getMessage().contains("not in graph 'pins'"),
                node.getMessage());
        KilnException fused = assertThrows(KilnException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("id", "b")));
        assertTrue(fused.getMessage().contains("'id' (the optimizer fused or removed it"), fused.getMessage());
        BackendUnavailableException backend = assertThrows(BackendUnavailableException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("s1", "gpu9")));
        assertTrue(backend.getMessage().contains("node 's1' is pinned to unknown backend 'gpu9'")
                && backend.getMessage().contains("known backends: a, b"), backend.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CompileOptions("a", true).withPin("s1", "auto"));
    }

    @Test
    void anUnavailableBackendOrOneThatCannotRunTheNodeIsAnErrorNotAFallback() {
        TimedBackend off = new TimedBackend("off", 50, "1", 0);
        off.unavailable = true;
        Engine engine = engine(options(SelectionPolicy.RANK), plain("a", 200), off, new NoSigmoidBackend());
        BackendUnavailableException unavailable = assertThrows(BackendUnavailableException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("s1", "off")));
        assertTrue(unavailable.getMessage().contains("node 's1' is pinned to backend 'off', which is not available:"
                + " switched off by the test"), unavailable.getMessage());
        KilnException refused = assertThrows(KilnException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("s1", "no-sigmoid")));
        assertTrue(refused.getMessage().contains("is pinned to backend 'no-sigmoid', which cannot run it: this test"
                + " backend has no sigmoid"), refused.getMessage());
        assertTrue(refused.getMessage().contains("s1"), refused.getMessage());
    }

    @Test
    void aPinnedBackendThatFailsToCompileFailsTheCompile() {
        TimedBackend broken = new TimedBackend("broken", 50, "1", 0);
        broken.failCompile = true;
        Engine engine = engine(options(SelectionPolicy.RANK), plain("a", 200), broken);
        KilnException e = assertThrows(KilnException.class,
                () -> engine.compile(graph, new CompileOptions("a", true).withPin("s1", "broken")));
        assertTrue(e.getMessage().contains("backend 'broken', to which nodes are pinned, failed to compile")
                && e.getMessage().contains("refuses to compile"), e.getMessage());
    }

    @Test
    void measuredSelectionHonoursThePinsInEveryCandidateUnderItsOwnCacheKey() {
        EngineOptions o = options(SelectionPolicy.MEASURED);
        CompileOptions pinned = new CompileOptions(Engine.AUTO, true).withPin("s1", "fast");
        try (CompiledModel model = engine(o, new TimedBackend("slow", 300, "1", 20), new TimedBackend("fast", 100, "1", 0))
                .compile(graph, new CompileOptions(Engine.AUTO, true))) {
            assertEquals(Selection.CacheUse.MISS, model.selection().cache());
        }
        try (CompiledModel model = engine(o, new TimedBackend("slow", 300, "1", 20), new TimedBackend("fast", 100, "1", 0))
                .compile(graph, pinned)) {
            Selection s = model.selection();
            assertEquals(Selection.CacheUse.MISS, s.cache(), "pins are another question than no pins");
            assertEquals("fast", s.winner());
            for (Candidate c : s.candidates()) {
                assertEquals(Candidate.Outcome.MEASURED, c.outcome(), c.toString()); // slow ran with s1 on fast
            }
            assertEquals(MixedPlan.Status.NOT_PLANNED, s.mixed().status());
            assertTrue(s.mixed().note().contains("pinned"), s.mixed().note());
            assertEquals("fast", placed(model).get("s1").backend());
            assertComputes(model);
        }
        Selector.forgetRemembered();
        TimedBackend slow = new TimedBackend("slow", 300, "1", 20);
        try (CompiledModel model = engine(o, slow, new TimedBackend("fast", 100, "1", 0)).compile(graph, pinned)) {
            assertEquals(Selection.CacheUse.HIT, model.selection().cache());
            assertEquals("fast", placed(model).get("s1").backend());
        }
        assertEquals(0, slow.compiles.get());
    }
}
