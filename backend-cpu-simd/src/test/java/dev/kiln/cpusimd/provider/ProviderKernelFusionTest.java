package dev.kiln.cpusimd.provider;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cpusimd.CpuSimdBackend;
import dev.kiln.cpusimd.DepthwiseConvKernel;
import dev.kiln.cpusimd.DepthwiseRows;
import dev.kiln.cpusimd.FusedForm;
import dev.kiln.cpusimd.SimdKernel;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.NodePlacement;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.KernelSupport;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * cpu-simd fuses by what a kernel declares, not by its class: a provider's depthwise kernel (in
 * another package, so through the public contract only) that declares
 * {@link FusedForm#DEPTHWISE_ROWS} runs as one step with the expansion convolution before it; one
 * that declares nothing runs on its own; both give the reference backend's answer. One that
 * declares the form without implementing its interface is refused with a message naming it.
 */
class ProviderKernelFusionTest {
    private static final String FUSED = "one step with";

    /** A provider kernel that takes the rows form: it declares it and answers through {@link DepthwiseRows}. */
    static final class RowsDepthwise implements DepthwiseRows {
        private final DepthwiseConvKernel inner;

        RowsDepthwise(DepthwiseConvKernel inner) {
            this.inner = inner;
        }

        @Override
        public String algorithm() {
            return "provider depthwise (rows)";
        }

        @Override
        public Set<FusedForm> fusedForms() {
            return inner.fusedForms().contains(FusedForm.DEPTHWISE_ROWS) ? Set.of(FusedForm.DEPTHWISE_ROWS) : Set.of();
        }

        @Override
        public int blocks() {
            return inner.blocks();
        }

        @Override
        public int outputRows() {
            return inner.outputRows();
        }

        @Override
        public int firstInputRow(int oy) {
            return inner.firstInputRow(oy);
        }

        @Override
        public int endInputRow(int oy) {
            return inner.endInputRow(oy);
        }

        @Override
        public void computeRows(float[] x, int inPlane, float[] y, float[] residual, int plane, int rowStart,
                                int rowEnd) {
            inner.computeRows(x, inPlane, y, residual, plane, rowStart, rowEnd);
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            inner.execute(inputs, outputs, scratch, threads);
        }
    }

    /** A provider kernel that declares no fused form. */
    static final class PlainDepthwise implements SimdKernel {
        private final DepthwiseConvKernel inner;

        PlainDepthwise(DepthwiseConvKernel inner) {
            this.inner = inner;
        }

        @Override
        public String algorithm() {
            return "provider depthwise (plain)";
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            inner.execute(inputs, outputs, scratch, threads);
        }
    }

    /** Declares the rows form but implements only {@link SimdKernel}: a provider's mistake. */
    static final class ClaimingDepthwise implements SimdKernel {
        private final DepthwiseConvKernel inner;

        ClaimingDepthwise(DepthwiseConvKernel inner) {
            this.inner = inner;
        }

        @Override
        public String algorithm() {
            return "provider depthwise (claims rows)";
        }

        @Override
        public Set<FusedForm> fusedForms() {
            return Set.of(FusedForm.DEPTHWISE_ROWS);
        }

        @Override
        public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
            inner.execute(inputs, outputs, scratch, threads);
        }
    }

    /** A provider of one depthwise kernel for cpu-simd, bidding above the backend's own. */
    private static KernelProvider provider(Function<DepthwiseConvKernel, SimdKernel> wrap) {
        KernelFactory<SimdKernel> depthwise = KernelFactory.of(SimdKernel.class, "provider-depthwise",
                node -> node.op() instanceof Conv && DepthwiseConvKernel.unsupportedReason(node) == null
                        ? KernelSupport.withPriority(KernelSupport.DEFAULT_PRIORITY + 50)
                        : KernelSupport.no("not a depthwise convolution"),
                (node, context) -> wrap.apply(new DepthwiseConvKernel(node, context.weights())));
        return new KernelProvider() {
            @Override
            public String name() {
                return "test-provider";
            }

            @Override
            public String backend() {
                return CpuSimdBackend.ID;
            }

            @Override
            public int contractVersion() {
                return SimdKernel.CONTRACT_VERSION;
            }

            @Override
            public List<KernelFactory<?>> kernels() {
                return List.of(depthwise);
            }
        };
    }

    private static Tensor random(SplittableRandom random, int... dims) {
        float[] v = new float[java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    /** x -> 1x1 expansion (Relu6) -> depthwise 3x3 (Relu6): an inverted residual block's first half. */
    private static Graph block(int channels, int expanded, int height, int width) {
        SplittableRandom random = new SplittableRandom(7);
        GraphBuilder b = new GraphBuilder("expansion-depthwise");
        b.input("x", Shape.of(Shape.DYNAMIC, channels, height, width));
        b.initializer("we", random(random, expanded, channels, 1, 1));
        b.initializer("be", random(random, expanded));
        b.initializer("wd", random(random, expanded, 1, 3, 3));
        b.initializer("bd", random(random, expanded));
        List<PostOp> post = List.of(new PostOp.Activate(ActivationFunction.RELU6));
        b.add("expand", new Conv(Window.of(1, 1), 1, post), "x", "we", "be");
        b.add("depthwise", new Conv(Window.square(3, 1, 1), expanded, post), "expand", "wd", "bd");
        b.output("depthwise");
        return b.build();
    }

    /** Runs the block with {@code provider} on cpu-simd and on the reference backend; returns each node's placement. */
    private static Map<String, NodePlacement> runAgainstReference(KernelProvider provider) {
        Engine engine = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()),
                KernelRegistry.discover().with(provider), EngineOptions.defaults().withThreads(2));
        // 20 and 44 channels: not a multiple of any lane count; odd sizes; batch 3.
        try (Graph g = block(20, 44, 13, 11); Tensor x = random(new SplittableRandom(3), 3, 20, 13, 11);
             CompiledModel simd = engine.compile(g, new CompileOptions(CpuSimdBackend.ID, false));
             CompiledModel reference = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false));
             Tensor expected = reference.run(x); Tensor actual = simd.run(x)) {
            assertClose(expected.toFloatArray(), actual.toFloatArray());
            return simd.placements().stream().collect(Collectors.toMap(NodePlacement::node, p -> p));
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        double largest = 0;
        for (float v : expected) {
            largest = Math.max(largest, Math.abs(v));
        }
        assertTrue(largest > 0, "the expected output is all zeros: the comparison would say nothing");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= 1e-5 * largest)) { // also fails on NaN
                fail("element " + i + ": expected " + expected[i] + ", got " + actual[i] + " (largest " + largest + ")");
            }
        }
    }

    @Test
    void aProviderKernelThatDeclaresTheRowsFormIsFusedWithTheExpansion() {
        Map<String, NodePlacement> placed = runAgainstReference(provider(RowsDepthwise::new));
        assertTrue(placed.get("depthwise").provider().equals("test-provider"), placed.toString());
        assertTrue(placed.get("expand").algorithm().contains(FUSED), placed.toString());
        assertTrue(placed.get("depthwise").algorithm().contains(FUSED), placed.toString());
    }

    @Test
    void aProviderKernelThatDeclaresNothingRunsAsAStepOfItsOwn() {
        Map<String, NodePlacement> placed = runAgainstReference(provider(PlainDepthwise::new));
        assertTrue(placed.get("depthwise").provider().equals("test-provider"), placed.toString());
        assertFalse(placed.get("expand").algorithm().contains(FUSED), placed.toString());
        assertFalse(placed.get("depthwise").algorithm().contains(FUSED), placed.toString());
    }

    @Test
    void aKernelDeclaringAFormWithoutItsInterfaceIsRefusedNamingIt() {
        Engine engine = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()),
                KernelRegistry.discover().with(provider(ClaimingDepthwise::new)), EngineOptions.defaults());
        try (Graph g = block(20, 44, 13, 11);
             CompiledModel simd = engine.compile(g, new CompileOptions(CpuSimdBackend.ID, false))) {
            // cpu-simd's partition fails to compile and is dropped, with the reason kept.
            String reasons = String.join("; ", simd.skippedBackends());
            assertTrue(reasons.contains(ClaimingDepthwise.class.getName()) && reasons.contains("DEPTHWISE_ROWS")
                    && reasons.contains("DepthwiseRows"), reasons);
        }
    }
}
