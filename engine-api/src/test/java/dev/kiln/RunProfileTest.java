package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunProfileTest {

    /** conv -> relu -> conv, compiled without the optimizer so that the relu stays a node of its own. */
    private static Graph chain() {
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("chain");
        b.input("x", Shape.of(1, 4, 5, 5));
        b.initializer("w1", tensor(random, 4, 4, 3, 3));
        b.initializer("w2", tensor(random, 2, 4, 1, 1));
        String c1 = b.add("conv1", new Conv(Window.square(3, 1, 1), 1), "x", "w1");
        String r = b.add("relu", new Activation(ActivationFunction.RELU), c1);
        b.output(b.add("conv2", new Conv(Window.of(1, 1), 1), r, "w2"));
        return b.build();
    }

    private static Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[java.util.Arrays.stream(dims).reduce(1, (a, c) -> a * c)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    /**
     * The reference kernels behind workspaces that do not time nodes (the SPI's default), as a
     * backend that enqueues work would be; it refuses activations, which then fall back.
     */
    private record UntimedBackend() implements Backend {
        private static final ReferenceBackend KERNELS = new ReferenceBackend();

        @Override
        public String id() {
            return "untimed";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return node.op() instanceof Activation ? Support.no("no activations here")
                    : KERNELS.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            CompiledPartition inner = KERNELS.compile(partition, context);
            return new CompiledPartition() {
                @Override
                public Workspace newWorkspace() {
                    Workspace ws = inner.newWorkspace();
                    return new Workspace() {
                        @Override
                        public void upload(int index, Tensor host) {
                            ws.upload(index, host);
                        }

                        @Override
                        public void execute() {
                            ws.execute();
                        }

                        @Override
                        public void download(int index, Tensor host) {
                            ws.download(index, host);
                        }

                        @Override
                        public void close() {
                            ws.close();
                        }
                    };
                }

                @Override
                public void close() {
                    inner.close();
                }
            };
        }
    }

    @Test
    void theReferenceBackendTimesEveryNodeOfEveryRun() {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        RunProfile profile = new RunProfile();
        try (Graph g = chain(); CompiledModel model = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false));
             Tensor x = tensor(new SplittableRandom(1), 1, 4, 5, 5); Tensor plain = model.run(x)) {
            for (int run = 0; run < 3; run++) {
                Map<String, Tensor> out = model.run(Map.of("x", x), profile);
                assertArrayEquals(plain.toFloatArray(), out.values().iterator().next().toFloatArray());
                out.values().forEach(Tensor::close);
            }
            List<RunProfile.Entry> entries = profile.entries();
            assertEquals(List.of("upload to partition 0", "conv1", "relu", "conv2", "download from partition 0"),
                    entries.stream().map(RunProfile.Entry::name).toList());
            for (RunProfile.Entry e : entries) {
                assertEquals(3, e.runs(), e.toString());
                assertTrue(e.medianMicros() >= 0 && e.medianMicros() <= e.totalMicros(), e.toString());
                assertEquals(ReferenceBackend.ID, e.backend(), e.toString());
            }
            Map<String, PlanReport.Placement> placed = new java.util.HashMap<>();
            model.placements().forEach(p -> placed.put(p.node(), p));
            for (RunProfile.Entry e : entries.subList(1, 4)) {
                assertEquals(RunProfile.Kind.NODE, e.kind());
                assertEquals(placed.get(e.name()).op(), e.op());
                assertEquals(placed.get(e.name()).algorithm(), e.algorithm());
            }
            assertEquals(RunProfile.Kind.TRANSFER, entries.getFirst().kind());

            profile.clear();
            assertTrue(profile.entries().isEmpty());
        }
    }

    @Test
    void aBackendThatDoesNotTimeNodesIsReportedByPartition() {
        Engine engine = Engine.withBackends(List.of(new UntimedBackend(), new ReferenceBackend()));
        RunProfile profile = new RunProfile();
        try (Graph g = chain(); CompiledModel model = engine.compile(g, new CompileOptions("untimed", false));
             Tensor x = tensor(new SplittableRandom(1), 1, 4, 5, 5)) {
            for (int run = 0; run < 2; run++) {
                model.run(Map.of("x", x), profile).values().forEach(Tensor::close);
            }
            assertEquals(List.of(
                    "upload to partition 0 TRANSFER untimed", "partition 0 (untimed, 1 nodes) PARTITION untimed",
                    "upload to partition 1 TRANSFER reference", "relu NODE reference",
                    "download from partition 1 TRANSFER reference",
                    "upload to partition 2 TRANSFER untimed", "partition 2 (untimed, 1 nodes) PARTITION untimed"),
                    profile.entries().stream().map(e -> e.name() + " " + e.kind() + " " + e.backend()).toList());
            assertTrue(profile.entries().stream().allMatch(e -> e.runs() == 2));
        }
    }

    @Test
    void mediansAreExactForOddAndEvenCounts() {
        RunProfile profile = new RunProfile();
        for (long nanos : new long[]{5_000, 1_000, 3_000}) {
            profile.record("odd", RunProfile.Kind.NODE, "Conv", "b", "", nanos);
        }
        for (long nanos : new long[]{4_000, 1_000, 2_000, 100_000}) {
            profile.record("even", RunProfile.Kind.NODE, "Conv", "b", "", nanos);
        }
        List<RunProfile.Entry> e = profile.entries();
        assertEquals(3.0, e.get(0).medianMicros());
        assertEquals(9.0, e.get(0).totalMicros());
        assertEquals(3.0, e.get(1).medianMicros());
        assertEquals(107.0, e.get(1).totalMicros());
        assertEquals(4, e.get(1).runs());
    }
}
