package dev.kiln.runtime;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One node in the middle of a residual block falls back to another backend: the residual value,
 * made before it and read after it by partitions of the chosen backend, is handed over in that
 * backend's form instead of going through host memory, and the results stay exactly those of
 * the host path.
 */
class ResidentBoundaryTest {
    private static final long VALUE_BYTES = 2 * 8 * 6 * 6 * Float.BYTES;

    /** The reference kernels under another id, without LRN; {@code wrap} changes what its partitions do at boundaries. */
    private record NoLrnBackend(UnaryOperator<CompiledPartition> wrap) implements Backend {
        private static final ReferenceBackend KERNELS = new ReferenceBackend();

        @Override
        public String id() {
            return "no-lrn";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return node.op() instanceof Lrn ? Support.no("test backend without LRN") : KERNELS.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            return wrap.apply(KERNELS.compile(partition, context));
        }
    }

    /** A partition that passes everything through, except what {@code handsOver} and {@code workspace} change. */
    private record Wrapped(CompiledPartition inner, boolean handsOver, UnaryOperator<Workspace> workspace)
            implements CompiledPartition {
        @Override
        public Workspace newWorkspace() {
            return workspace.apply(inner.newWorkspace());
        }

        @Override
        public boolean handsOverResident() {
            return handsOver;
        }

        @Override
        public List<NodeKernel> kernels() {
            return inner.kernels();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** A workspace that says it hands values over but exports nothing, or refuses every import. */
    private record Unwilling(Workspace inner, boolean exports) implements Workspace {
        @Override
        public void upload(int index, Tensor host) {
            inner.upload(index, host);
        }

        @Override
        public void execute() {
            inner.execute();
        }

        @Override
        public void download(int index, Tensor host) {
            inner.download(index, host);
        }

        @Override
        public Object exportResident(int index) {
            return exports ? inner.exportResident(index) : null;
        }

        @Override
        public boolean importResident(int index, Object value) {
            return false;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** stem conv (ReLU) -> a; 1x1 conv -> b; LRN -> c; conv + residual a -> y. */
    private static Graph residualBlockAroundLrn() {
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("residual-around-lrn");
        b.input("x", Shape.of(2, 8, 6, 6));
        b.initializer("w0", tensor(random, 8, 8, 3, 3));
        b.initializer("w1", tensor(random, 8, 8, 1, 1));
        b.initializer("w2", tensor(random, 8, 8, 3, 3));
        b.initializer("b2", tensor(random, 8));
        b.node("stem", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                List.of("x", "w0"), List.of("a"));
        b.node("squeeze", new Conv(Window.of(1, 1), 1), List.of("a", "w1"), List.of("b"));
        b.node("lrn", new Lrn(3, 1e-2f, 0.75f, 1f), List.of("b"), List.of("c"));
        b.node("merge", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.AddResidual())),
                List.of("c", "w2", "b2", "a"), List.of("y"));
        b.output("y");
        return b.build();
    }

    private static Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[Arrays.stream(dims).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    private static float[] run(CompiledModel model, long seed) {
        try (Tensor x = tensor(new SplittableRandom(seed), 2, 8, 6, 6); Tensor y = model.run(x)) {
            return y.toFloatArray();
        }
    }

    private static float[] reference(Graph g, long seed) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        try (CompiledModel model = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
            return run(model, seed);
        }
    }

    private static CompiledModel compile(Graph g, UnaryOperator<CompiledPartition> wrap) {
        Engine engine = Engine.withBackends(List.of(new NoLrnBackend(wrap), new ReferenceBackend()));
        return engine.compile(g, new CompileOptions("no-lrn", false));
    }

    @Test
    void theResidualAroundTheFallbackNodeStaysResidentAndOnlyTheFallbackNodesValuesCrossTheHost() {
        try (Graph g = residualBlockAroundLrn(); CompiledModel model = compile(g, UnaryOperator.identity())) {
            ExecutionPlan plan = InternalAccess.plan(model, 2);
            assertEquals(List.of("no-lrn", "reference", "no-lrn"),
                    List.of(plan.backendOf(0), plan.backendOf(1), plan.backendOf(2)));
            assertEquals(List.of(
                            new BoundaryValue("a", 0, List.of(2), VALUE_BYTES, false, true),
                            new BoundaryValue("b", 0, List.of(1), VALUE_BYTES, false, false),
                            new BoundaryValue("c", 1, List.of(2), VALUE_BYTES, false, false)),
                    plan.boundaries());

            for (long seed = 0; seed < 3; seed++) {
                assertArrayEquals(reference(g, seed), run(model, seed), 0f, "seed " + seed);
            }
            // Per run: b and c are downloaded once and uploaded once each; a is handed over.
            assertEquals(new BoundaryTraffic(3, 3 * 4, 3 * 4 * VALUE_BYTES, 3), plan.boundaryTraffic());
        }
    }

    /** What a user sees of the same plan: the report copies partitions, boundaries and placements. */
    @Test
    void thePlanReportNamesEachPartitionsNodesAndEachBoundarysBytes() {
        try (Graph g = residualBlockAroundLrn(); CompiledModel model = compile(g, UnaryOperator.identity())) {
            PlanReport report = model.planForBatch(2);
            assertEquals(List.of("no-lrn", "reference", "no-lrn"),
                    report.partitions().stream().map(PlanReport.Partition::backend).toList());
            assertEquals(List.of(List.of("stem", "squeeze"), List.of("lrn"), List.of("merge")),
                    report.partitions().stream().map(PlanReport.Partition::nodes).toList());
            assertEquals(List.of(
                            new PlanReport.Boundary("a", 0, List.of(2), VALUE_BYTES, false, true),
                            new PlanReport.Boundary("b", 0, List.of(1), VALUE_BYTES, false, false),
                            new PlanReport.Boundary("c", 1, List.of(2), VALUE_BYTES, false, false)),
                    report.boundaries());
            assertEquals(List.of(0L, 2 * VALUE_BYTES, 2 * VALUE_BYTES),
                    report.boundaries().stream().map(PlanReport.Boundary::hostBytesPerRun).toList());
            assertEquals(List.of("stem", "squeeze", "lrn", "merge"),
                    report.placements().stream().map(PlanReport.Placement::node).toList());
            assertEquals(List.of(0, 0, 1, 2), report.placements().stream().map(PlanReport.Placement::partition).toList());
            assertEquals("no-lrn", report.primaryBackend());
            assertEquals(Shape.of(2, 8, 6, 6), report.shapes().get("c"));
            assertEquals(InternalAccess.plan(model, 2).bytesPerRun(), report.bytesPerRun());
        }
    }

    @Test
    void aValueReadByTwoLaterPartitionsIsHandedToEach() {
        SplittableRandom random = new SplittableRandom(4);
        GraphBuilder b = new GraphBuilder("two-fallbacks");
        b.input("x", Shape.of(2, 8, 6, 6));
        b.initializer("w0", tensor(random, 8, 8, 3, 3));
        b.initializer("w1", tensor(random, 8, 8, 1, 1));
        b.node("stem", new Conv(Window.square(3, 1, 1), 1), List.of("x", "w0"), List.of("a"));
        b.node("squeeze", new Conv(Window.of(1, 1), 1), List.of("a", "w1"), List.of("b"));
        b.node("lrn1", new Lrn(3, 1e-2f, 0.75f, 1f), List.of("b"), List.of("c"));
        b.node("merge1", Binary.ADD, List.of("c", "a"), List.of("d"));
        b.node("lrn2", new Lrn(5, 1e-2f, 0.75f, 1f), List.of("d"), List.of("e"));
        b.node("merge2", Binary.ADD, List.of("e", "a"), List.of("y"));
        b.output("y");
        try (Graph g = b.build(); CompiledModel model = compile(g, UnaryOperator.identity())) {
            ExecutionPlan plan = InternalAccess.plan(model, 2);
            assertEquals(new BoundaryValue("a", 0, List.of(2, 4), VALUE_BYTES, false, true),
                    plan.boundaries().getFirst());
            assertEquals(List.of(true, false, false, false, false),
                    plan.boundaries().stream().map(BoundaryValue::resident).toList());

            assertArrayEquals(reference(g, 5), run(model, 5), 0f);
            assertEquals(new BoundaryTraffic(1, 8, 8 * VALUE_BYTES, 2), plan.boundaryTraffic());
        }
    }

    @Test
    void aBackendThatDoesNotHandValuesOverSendsTheResidualThroughTheHost() {
        UnaryOperator<CompiledPartition> hostOnly = p -> new Wrapped(p, false, UnaryOperator.identity());
        try (Graph g = residualBlockAroundLrn(); CompiledModel model = compile(g, hostOnly)) {
            ExecutionPlan plan = InternalAccess.plan(model, 2);
            assertEquals(List.of(false, false, false), plan.boundaries().stream().map(BoundaryValue::resident).toList());
            assertEquals(3 * VALUE_BYTES * 2, plan.boundaries().stream().mapToLong(BoundaryValue::hostBytesPerRun).sum());

            assertArrayEquals(reference(g, 7), run(model, 7), 0f);
            assertEquals(new BoundaryTraffic(1, 6, 6 * VALUE_BYTES, 0), plan.boundaryTraffic());
        }
    }

    @Test
    void aValueTheReaderRefusesOrTheProducerDoesNotExportIsDownloadedFromTheProducerAndUploaded() {
        for (boolean exports : new boolean[] {true, false}) {
            UnaryOperator<CompiledPartition> unwilling = p -> new Wrapped(p, true, w -> new Unwilling(w, exports));
            try (Graph g = residualBlockAroundLrn(); CompiledModel model = compile(g, unwilling)) {
                ExecutionPlan plan = InternalAccess.plan(model, 2);
                assertEquals(List.of(true, false, false),
                        plan.boundaries().stream().map(BoundaryValue::resident).toList());

                assertArrayEquals(reference(g, 11), run(model, 11), 0f, "exports " + exports);
                assertArrayEquals(reference(g, 12), run(model, 12), 0f, "exports " + exports);
                assertEquals(new BoundaryTraffic(2, 2 * 6, 2 * 6 * VALUE_BYTES, 0), plan.boundaryTraffic(),
                        "exports " + exports);
            }
        }
    }

    @Test
    void concurrentRunsEachGetTheirOwnResidentValues() throws Exception {
        try (Graph g = residualBlockAroundLrn(); CompiledModel model = compile(g, UnaryOperator.identity())) {
            int seeds = 8;
            List<float[]> expected = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                expected.add(reference(g, s));
            }
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int first = t;
                    done.add(callers.submit(() -> {
                        for (int i = 0; i < 40; i++) {
                            int seed = (first + i) % seeds;
                            assertArrayEquals(expected.get(seed), run(model, seed), 0f, "seed " + seed);
                        }
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                callers.shutdownNow();
            }
            assertEquals(160, InternalAccess.plan(model, 2).boundaryTraffic().residentHandovers());
        }
    }
}
