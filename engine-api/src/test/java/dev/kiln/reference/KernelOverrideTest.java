package dev.kiln.reference;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.KernelSupport;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A vendor ships one kernel for an existing backend: it wins by priority where it bids, is
 * named in the placements {@code explain} prints, and computes what the plain kernel computes.
 */
class KernelOverrideTest {

    /** A Relu written differently from the reference one (a branch instead of Math.max), counting its runs. */
    static final class VendorRelu implements KernelProvider {
        final AtomicInteger executions = new AtomicInteger();
        private final int priority;

        VendorRelu(int priority) {
            this.priority = priority;
        }

        @Override
        public String name() {
            return "test-vendor";
        }

        @Override
        public String backend() {
            return ReferenceBackend.ID;
        }

        @Override
        public int contractVersion() {
            return ReferenceKernel.CONTRACT_VERSION;
        }

        @Override
        public List<KernelFactory<?>> kernels() {
            return List.of(new KernelFactory<ReferenceKernel>() {
                @Override
                public Class<ReferenceKernel> kernelType() {
                    return ReferenceKernel.class;
                }

                @Override
                public String name() {
                    return "branchy-relu";
                }

                @Override
                public KernelSupport supports(BoundNode node) {
                    return node.op() instanceof Activation a && a.function().equals(ActivationFunction.RELU)
                            ? KernelSupport.withPriority(priority) : KernelSupport.no("only Relu");
                }

                @Override
                public ReferenceKernel create(BoundNode node, CompileContext context) {
                    int n = (int) node.outputShape().elementCount();
                    return (in, out) -> {
                        executions.incrementAndGet();
                        for (int i = 0; i < n; i++) {
                            out[0][i] = in[0][i] > 0 ? in[0][i] : 0f;
                        }
                    };
                }
            });
        }
    }

    private static Graph graph() {
        GraphBuilder b = new GraphBuilder("relu-after-add");
        b.input("x", Shape.of(2, 3, 5, 5));
        b.initializer("shift", Tensor.of(Shape.of(1, 3, 1, 1), 0.1f, -0.2f, 0.3f));
        b.add("add", Binary.ADD, "x", "shift");
        b.add("relu", new Activation(ActivationFunction.RELU), "add");
        b.output("relu");
        return b.build();
    }

    private static float[] run(Engine engine, Graph graph, List<PlanReport.Placement> placements) {
        try (CompiledModel model = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, false));
             Tensor x = Tensor.of(Shape.of(2, 3, 5, 5), uniform(150, 9));
             Tensor y = model.run(x)) {
            placements.addAll(model.placements());
            return y.toFloatArray();
        }
    }

    @Test
    void aHigherPriorityVendorKernelReplacesThePlainOneAndAgreesWithIt() {
        VendorRelu vendor = new VendorRelu(200);
        Engine plain = Engine.withBackends(List.of(new ReferenceBackend()));
        Engine withVendor = Engine.withBackends(List.of(new ReferenceBackend()), KernelRegistry.discover().with(vendor),
                EngineOptions.defaults());
        try (Graph graph = graph()) {
            List<PlanReport.Placement> plainPlacements = new java.util.ArrayList<>();
            List<PlanReport.Placement> vendorPlacements = new java.util.ArrayList<>();
            float[] expected = run(plain, graph, plainPlacements);
            float[] actual = run(withVendor, graph, vendorPlacements);
            assertArrayEquals(expected, actual);
            assertEquals(1, vendor.executions.get());

            PlanReport.Placement relu = vendorPlacements.stream().filter(p -> p.node().equals("relu")).findFirst().orElseThrow();
            assertEquals("branchy-relu", relu.kernel());
            assertEquals("test-vendor", relu.provider());
            PlanReport.Placement add = vendorPlacements.stream().filter(p -> p.node().equals("add")).findFirst().orElseThrow();
            assertEquals("binary", add.kernel());
            assertEquals(ReferenceKernels.PROVIDER, add.provider());
            PlanReport.Placement plainRelu = plainPlacements.stream().filter(p -> p.node().equals("relu")).findFirst()
                    .orElseThrow();
            assertEquals("activation", plainRelu.kernel());
        }
    }

    @Test
    void aLowerPriorityVendorKernelLosesToTheBackendsOwn() {
        VendorRelu vendor = new VendorRelu(KernelSupport.DEFAULT_PRIORITY - 1);
        Engine withVendor = Engine.withBackends(List.of(new ReferenceBackend()), KernelRegistry.discover().with(vendor),
                EngineOptions.defaults());
        try (Graph graph = graph()) {
            List<PlanReport.Placement> placements = new java.util.ArrayList<>();
            run(withVendor, graph, placements);
            assertEquals(0, vendor.executions.get());
            assertEquals("activation", placements.stream().filter(p -> p.node().equals("relu")).findFirst()
                    .orElseThrow().kernel());
        }
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
