package dev.kiln.runtime;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cpusimd.CpuSimdBackend;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real network on cpu-simd with one node in the middle of a residual block that cpu-simd
 * refuses, so it falls back to the reference backend: the block's input skips over it from a
 * cpu-simd partition to the next and stays in cpu-simd's layout. Prints the bytes through host
 * memory per run with and without that, and checks that the outputs are bit for bit the same.
 */
class OneFallbackNodeTest {

    /** cpu-simd without one node; with {@code handsOver} false every boundary value goes through host memory. */
    private record CpuSimdButOne(String refused, boolean handsOver) implements Backend {
        private static final CpuSimdBackend SIMD = new CpuSimdBackend();

        @Override
        public String id() {
            return "cpu-simd-but-one";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            // Its pieces too, or the placer would split the fused node into ops this backend runs.
            boolean isRefused = node.name().equals(refused) || node.name().startsWith(refused + "/");
            return isRefused ? Support.no("refused by the test") : SIMD.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            CompiledPartition inner = SIMD.compile(partition, context);
            return handsOver ? inner : new CompiledPartition() {
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

    private record Outcome(float[] output, ExecutionPlan plan, BoundaryTraffic traffic) {
    }

    private static Outcome run(Graph graph, Tensor input, String refused, boolean handsOver) {
        Engine engine = Engine.withBackends(List.of(new CpuSimdButOne(refused, handsOver), new ReferenceBackend()));
        try (CompiledModel model = engine.compile(graph, new CompileOptions("cpu-simd-but-one", true));
             Tensor y = model.run(input)) {
            ExecutionPlan plan = InternalAccess.plan(model, 1);
            return new Outcome(y.toFloatArray(), plan, plan.boundaryTraffic());
        }
    }

    @ParameterizedTest
    @CsvSource({"mobilenet_v2, features.5.conv.1.0, features.4.conv.3",
            "resnet50, layer3.2.conv2, layer3.1.relu_2"})
    void theBlockInputSkipsTheHost(String name, String refused, String blockInput) {
        try (Graph graph = Models.byName(name).build(1L);
             Tensor x = random(Models.byName(name).inputShape().withDim(0, 1))) {
            Outcome resident = run(graph, x, refused, true);
            Outcome host = run(graph, x, refused, false);

            assertArrayEquals(host.output(), resident.output(), 0f);
            assertEquals(List.of("cpu-simd-but-one", "reference", "cpu-simd-but-one"), List.of(
                    resident.plan().backendOf(0), resident.plan().backendOf(1), resident.plan().backendOf(2)));
            List<String> residentValues = resident.plan().boundaries().stream().filter(BoundaryValue::resident)
                    .map(BoundaryValue::name).toList();
            assertEquals(List.of(blockInput), residentValues, resident.plan().boundaries().toString());
            long skipping = resident.plan().boundaries().stream().filter(BoundaryValue::resident).findFirst()
                    .orElseThrow().hostBytes();
            assertEquals(host.traffic().hostBytes() - 2 * skipping, resident.traffic().hostBytes());
            assertEquals(host.traffic().hostTransfers() - 2, resident.traffic().hostTransfers());
            assertEquals(1, resident.traffic().residentHandovers());
            System.out.printf(Locale.ROOT, "%s with %s on reference: %d boundary values; through host per run:"
                            + " %d bytes in %d transfers with residency, %d bytes in %d transfers without%n",
                    name, refused, resident.plan().boundaries().size(), resident.traffic().hostBytes(),
                    resident.traffic().hostTransfers(), host.traffic().hostBytes(), host.traffic().hostTransfers());
        }
    }

    private static Tensor random(Shape shape) {
        SplittableRandom random = new SplittableRandom(17);
        float[] v = new float[shape.elementCountInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(shape, v);
    }
}
