package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.BoundaryTraffic;
import dev.kiln.runtime.BoundaryValue;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cpu-simd hands values that skip a fallback node to its next partition in its blocked layout:
 * a rank-4 residual around an LRN (20 channels, so the last block has padding lanes) and a
 * rank-2 one around a MatMul, neither of which cpu-simd runs. The results are bit for bit those
 * of the same kernels with every value through host memory, and agree with the reference backend.
 */
class SimdResidentBoundaryTest {
    private static final int N = 2, C = 20, H = 7, W = 5;

    /** cpu-simd's kernels under another id, with every boundary value through host memory. */
    private static final class HostOnlySimd implements Backend {
        private final CpuSimdBackend simd = new CpuSimdBackend();

        @Override
        public String id() {
            return "cpu-simd-host";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return simd.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            CompiledPartition inner = simd.compile(partition, context);
            return new CompiledPartition() {
                @Override
                public Workspace newWorkspace() {
                    return inner.newWorkspace();
                }

                @Override
                public List<NodeKernel> kernels() {
                    return inner.kernels();
                }

                @Override
                public void close() {
                    inner.close();
                }
            };
        }
    }

    /**
     * stem conv (ReLU) -> a; 1x1 conv -> b; LRN -> c; conv + residual a -> d; global pool,
     * flatten -> f; fully connected -> g; MatMul -> m; m + f -> y.
     */
    private static Graph graph() {
        SplittableRandom random = new SplittableRandom(21);
        GraphBuilder b = new GraphBuilder("residuals-around-fallbacks");
        b.input("x", Shape.of(N, C, H, W));
        b.initializer("w0", tensor(random, C, C, 3, 3));
        b.initializer("w1", tensor(random, C, C, 1, 1));
        b.initializer("w2", tensor(random, C, C, 3, 3));
        b.initializer("b2", tensor(random, C));
        b.initializer("wg", tensor(random, C, C));
        b.initializer("bg", tensor(random, C));
        b.initializer("wm", tensor(random, C, C));
        b.node("stem", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                List.of("x", "w0"), List.of("a"));
        b.node("squeeze", new Conv(Window.of(1, 1), 1), List.of("a", "w1"), List.of("b"));
        b.node("lrn", new Lrn(5, 1e-2f, 0.75f, 1f), List.of("b"), List.of("c"));
        b.node("merge", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.AddResidual())),
                List.of("c", "w2", "b2", "a"), List.of("d"));
        b.node("pool", GlobalPool.AVERAGE, List.of("d"), List.of("p"));
        b.node("flatten", new Flatten(1), List.of("p"), List.of("f"));
        b.node("fc", Gemm.FULLY_CONNECTED, List.of("f", "wg", "bg"), List.of("g"));
        b.node("matmul", new MatMul(), List.of("g", "wm"), List.of("m"));
        b.node("add", Binary.ADD, List.of("m", "f"), List.of("y"));
        b.output("y");
        return b.build();
    }

    private static dev.kiln.Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[Arrays.stream(dims).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    private static float[] run(Engine engine, String backend, Graph g, List<ExecutionPlan> plan) {
        try (CompiledModel model = engine.compile(g, new CompileOptions(backend, false))) {
            float[] result = null;
            for (int seed = 0; seed < 2; seed++) {
                try (Tensor x = tensor(new SplittableRandom(seed), N, C, H, W); Tensor y = model.run(x)) {
                    result = y.toFloatArray();
                }
            }
            plan.add(InternalAccess.plan(model, N));
            return result;
        }
    }

    @Test
    void residualsAroundFallbackNodesStayInTheBlockedLayoutAndGiveTheHostPathsResults() {
        Engine engine = Engine.withBackends(List.of(new CpuSimdBackend(), new HostOnlySimd(), new ReferenceBackend()));
        try (Graph g = graph()) {
            List<ExecutionPlan> plans = new java.util.ArrayList<>();
            float[] resident = run(engine, CpuSimdBackend.ID, g, plans);
            float[] host = run(engine, "cpu-simd-host", g, plans);
            float[] reference = run(engine, ReferenceBackend.ID, g, plans);

            assertArrayEquals(host, resident, 0f);
            float scale = 0, error = 0;
            for (int i = 0; i < reference.length; i++) {
                scale = Math.max(scale, Math.abs(reference[i]));
                error = Math.max(error, Math.abs(reference[i] - resident[i]));
            }
            assertTrue(error <= 1e-4f * scale, "largest error " + error + " against a scale of " + scale);

            long rank4 = (long) N * C * H * W * Float.BYTES, rank2 = (long) N * C * Float.BYTES;
            assertEquals(List.of(
                    new BoundaryValue("a", 0, List.of(2), rank4, false, true),
                    new BoundaryValue("b", 0, List.of(1), rank4, false, false),
                    new BoundaryValue("c", 1, List.of(2), rank4, false, false),
                    new BoundaryValue("f", 2, List.of(4), rank2, false, true),
                    new BoundaryValue("g", 2, List.of(3), rank2, false, false),
                    new BoundaryValue("m", 3, List.of(4), rank2, false, false)), plans.get(0).boundaries());
            assertEquals(new BoundaryTraffic(2, 2 * 8, 2 * 4 * (rank4 + rank2), 2 * 2),
                    plans.get(0).boundaryTraffic());
            assertEquals(new BoundaryTraffic(2, 2 * 12, 2 * 6 * (rank4 + rank2), 0), plans.get(1).boundaryTraffic());
        }
    }
}
