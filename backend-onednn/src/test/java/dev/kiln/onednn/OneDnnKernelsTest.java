package dev.kiln.onednn;

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
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.graph.ops.Window;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.onednn.NativeKernels.Kernel;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Device;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.KernelSupport;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onednn backend's kernels through the registry: which form a node gets (the special forms,
 * Kiln's Winograd, swish and excitation kernels, where their kernels are loaded and the node is
 * theirs), the reason a node no form runs is refused with, and a provider's kernel taking a node
 * from the backend's own through the {@link OneDnnKernel} contract.
 */
class OneDnnKernelsTest {
    private static final KernelRegistry OWN = new KernelRegistry(List.of(new OneDnnKernels()));
    private static final boolean KILNS_SWISH = ExpectedKernels.uses(Kernel.SWISH);
    private static final boolean KILNS_EXCITATION = ExpectedKernels.uses(Kernel.SQUEEZE_EXCITATION);
    private static final boolean KILNS_WINOGRAD = ExpectedKernels.uses(Kernel.WINOGRAD);

    private static Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[(int) Shape.of(dims).elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return Tensor.of(Shape.of(dims), v);
    }

    /** The node {@code name} of a graph whose input x has shape {@code x}. */
    private static BoundNode bound(Graph g, String name, Shape x) {
        return BoundNode.bindAll(g, g.inferShapes(Map.of("x", x))).stream().filter(n -> n.name().equals(name))
                .findFirst().orElseThrow();
    }

    private static String formOf(BoundNode node) {
        KernelRegistry.Choice<OneDnnKernel> choice = OWN.best(OneDnnBackend.ID, OneDnnKernel.class, node, null);
        return choice == null ? null : choice.kernel();
    }

    private static String convolutionForm(int channels, int outChannels, int size, int stride, PostOp... epilogue) {
        SplittableRandom random = new SplittableRandom(channels * 31L + size);
        GraphBuilder b = new GraphBuilder("conv");
        Shape x = Shape.of(1, channels, size, size);
        b.input("x", x);
        b.initializer("w", tensor(random, outChannels, channels, 3, 3));
        b.output(b.add("conv", new Conv(Window.square(3, stride, 1), 1, List.of(epilogue)), "x", "w"));
        try (Graph g = b.build()) {
            return formOf(bound(g, "conv", x));
        }
    }

    @Test
    void aThreeByThreeConvolutionOfStrideOneIsWinogradsWhereItsKernelsRun() {
        PostOp relu = new PostOp.Activate(ActivationFunction.RELU);
        assertEquals(KILNS_WINOGRAD ? "onednn-winograd-convolution" : "onednn-convolution",
                convolutionForm(16, 16, 10, 1, relu));
        assertEquals("onednn-convolution", convolutionForm(16, 16, 20, 2, relu), "stride 2");
        assertEquals("onednn-convolution", convolutionForm(8, 32, 20, 1, relu), "8 input channels");
        assertEquals("onednn-convolution", convolutionForm(32, 32, 20, 1, new PostOp.Activate(ActivationFunction.TANH)),
                "an epilogue the output transform does not apply");
    }

    @Test
    void aSwishEndingALargeConvolutionIsKilnsWhereItsKernelRuns() {
        PostOp swish = new PostOp.Activate(ActivationFunction.SILU);
        // 32 x 24 x 24 = 18,432 output values, from 16,384 the swish is Kiln's; 32 x 20 x 20 = 12,800 is oneDNN's post-op.
        assertEquals(KILNS_SWISH ? "onednn-convolution-kiln-swish" : "onednn-convolution",
                convolutionForm(32, 32, 24, 1, swish));
        assertEquals("onednn-convolution", convolutionForm(32, 32, 20, 1, swish));
    }

    @Test
    void aSqueezeExcitationsExcitationIsOneCallOfKilnsKernelWhereItRuns() {
        SplittableRandom random = new SplittableRandom(5);
        GraphBuilder b = new GraphBuilder("se");
        Shape x = Shape.of(1, 32, 7, 7);
        b.input("x", x);
        b.initializer("w1", tensor(random, 8, 32, 1, 1));
        b.initializer("w2", tensor(random, 32, 8, 1, 1));
        b.output(b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), "x", "w1",
                "w2"));
        try (Graph g = b.build()) {
            assertEquals(KILNS_EXCITATION ? "onednn-squeeze-excitation-kiln" : "onednn-squeeze-excitation",
                    formOf(bound(g, "se", x)));
        }
    }

    @Test
    void aNodeNoFormRunsIsRefusedWithItsGeneralFormsReason() {
        CompileContext context = CompileContext.standalone(Device.HOST_CPU);
        GraphBuilder b = new GraphBuilder("refused");
        Shape x = Shape.of(1, 8, 4, 4);
        b.input("x", x);
        String lrn = b.add("lrn", new Lrn(4, 1e-4f, 0.75f, 1f), "x");
        b.output(b.add("transpose", new Transpose(new int[]{0, 2, 3, 1}), lrn));
        try (Graph g = b.build()) {
            Support even = new OneDnnBackend().supports(bound(g, "lrn", x), context);
            assertFalse(even.supported());
            assertTrue(even.reason().startsWith("LRN of even size 4"), even.reason());
            Support transpose = new OneDnnBackend().supports(bound(g, "transpose", x), context);
            assertEquals("Transpose has no oneDNN primitive here", transpose.reason());
        }
        try (Graph g = b.build()) {
            BoundNode node = bound(g, "lrn", x);
            assertFalse(new OneDnnBackend().supports(node, new CompileContext(context.options(), context.device(),
                    context.threads(), new KernelRegistry(List.of()), context.weights())).supported(),
                    "with no kernel registered for onednn, it runs nothing");
        }
    }

    /**
     * A Relu written against the contract alone: it asks for its input in plain layout and
     * clamps it into a value of its own in a pass of Java code.
     */
    private record PlainRelu(BoundNode node, NativeResources descriptors) implements OneDnnKernel {
        @Override
        public int lower(OneDnnLowering lowering) {
            Dnnl dnnl = OneDnnRuntime.get().require().dnnl; // a vendor makes its descriptors with oneDNN's own API
            long[] dims = ValueLayouts.dims(node.outputShape());
            MemorySegment plain = dnnl.memoryDesc(dims, false);
            descriptors.own(plain, () -> dnnl.memoryDescDestroy(plain));
            int x = lowering.as(lowering.input(0), plain);
            int y = lowering.activation(plain);
            long count = node.outputShape().elementCount();
            lowering.pass(1, new int[]{x, y}, y, buffers -> {
                MemorySegment in = buffers[x].reinterpret(count * Float.BYTES);
                MemorySegment out = buffers[y].reinterpret(count * Float.BYTES);
                for (long i = 0; i < count; i++) {
                    out.setAtIndex(ValueLayout.JAVA_FLOAT, i, Math.max(0f, in.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
                }
            });
            lowering.note("plain relu in Java");
            return y;
        }
    }

    /** A 1x1 convolution of one image without bias, in Java over plain layouts, through the contract alone. */
    private record PlainPointwiseConv(BoundNode node, NativeResources descriptors) implements OneDnnKernel {
        @Override
        public int lower(OneDnnLowering lowering) {
            Dnnl dnnl = OneDnnRuntime.get().require().dnnl;
            MemorySegment in = dnnl.memoryDesc(ValueLayouts.dims(node.inputShape(0)), false);
            descriptors.own(in, () -> dnnl.memoryDescDestroy(in));
            MemorySegment out = dnnl.memoryDesc(ValueLayouts.dims(node.outputShape()), false);
            descriptors.own(out, () -> dnnl.memoryDescDestroy(out));
            int x = lowering.as(lowering.input(0), in);
            int w = lowering.input(1);
            int y = lowering.activation(out);
            int channels = node.inputShape(0).dim(1);
            int outChannels = node.outputShape().dim(1);
            int pixels = node.outputShape().dim(2) * node.outputShape().dim(3);
            lowering.pass(1, new int[]{x, w, y}, y, buffers -> {
                MemorySegment xs = buffers[x].reinterpret((long) channels * pixels * Float.BYTES);
                MemorySegment ws = buffers[w].reinterpret((long) outChannels * channels * Float.BYTES);
                MemorySegment ys = buffers[y].reinterpret((long) outChannels * pixels * Float.BYTES);
                for (int o = 0; o < outChannels; o++) {
                    for (int p = 0; p < pixels; p++) {
                        float sum = 0;
                        for (int c = 0; c < channels; c++) {
                            sum += ws.getAtIndex(ValueLayout.JAVA_FLOAT, (long) o * channels + c)
                                    * xs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * pixels + p);
                        }
                        ys.setAtIndex(ValueLayout.JAVA_FLOAT, (long) o * pixels + p, sum);
                    }
                }
            });
            return y;
        }
    }

    /**
     * A squeeze-excitation whose only reader is a convolution leaves its gate to that reader; a
     * provider's convolution that reads its input as a value gets it multiplied by the gate.
     */
    @Test
    void aGateLeftToAReaderOfAnotherProviderIsMultipliedInForIt() {
        try (NativeResources descriptors = new NativeResources()) {
            KernelFactory<OneDnnKernel> conv = KernelFactory.of(OneDnnKernel.class, "plain-pointwise",
                    n -> n.op() instanceof Conv c && c.postOps().isEmpty() && n.inputShape(1).dim(2) == 1
                            && !n.node().hasInput(2) && n.inputShape(0).dim(0) == 1
                            ? KernelSupport.withPriority(KernelSupport.DEFAULT_PRIORITY + 50)
                            : KernelSupport.no("1x1, one image, no bias, no epilogue only"),
                    (n, c) -> new PlainPointwiseConv(n, descriptors));
            KernelRegistry registry = KernelRegistry.discover().with(KernelProvider.of("vendor", OneDnnBackend.ID,
                    OneDnnKernel.CONTRACT_VERSION, List.of(conv)));
            SplittableRandom random = new SplittableRandom(13);
            GraphBuilder b = new GraphBuilder("gated");
            b.input("x", Shape.of(1, 16, 8, 8));
            b.initializer("w1", tensor(random, 4, 16, 1, 1));
            b.initializer("w2", tensor(random, 16, 4, 1, 1));
            b.initializer("w", tensor(random, 8, 16, 1, 1));
            String se = b.add("se", new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID), "x",
                    "w1", "w2");
            b.output(b.add("conv", new Conv(Window.of(1, 1), 1), se, "w"));
            try (Engine engine = Engine.withBackends(List.of(new OneDnnBackend(), new ReferenceBackend()), registry,
                    EngineOptions.defaults());
                 Graph g = b.build();
                 Tensor x = tensor(random, 1, 16, 8, 8);
                 CompiledModel onednn = engine.compile(g, new CompileOptions(OneDnnBackend.ID, false));
                 CompiledModel reference = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
                Map<String, PlanReport.Placement> placed = new java.util.HashMap<>();
                onednn.placements().forEach(p -> placed.put(p.node(), p));
                assertTrue(placed.get("se").algorithm().contains("gate applied by conv"), placed.get("se").algorithm());
                assertEquals("plain-pointwise", placed.get("conv").kernel());
                Map<String, Tensor> want = reference.run(Map.of("x", x));
                Map<String, Tensor> got = onednn.run(Map.of("x", x));
                assertArrayEquals(want.get(g.outputs().getFirst()).toFloatArray(),
                        got.get(g.outputs().getFirst()).toFloatArray(), 1e-5f);
                want.values().forEach(Tensor::close);
                got.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void aProvidersKernelTakesANodeFromTheBackendsOwnThroughTheContract() {
        try (NativeResources descriptors = new NativeResources()) {
            KernelFactory<OneDnnKernel> relu = KernelFactory.of(OneDnnKernel.class, "plain-relu",
                    n -> n.op() instanceof Activation a && a.function().equals(ActivationFunction.RELU)
                            ? KernelSupport.withPriority(KernelSupport.DEFAULT_PRIORITY + 50)
                            : KernelSupport.no("Relu only"),
                    (n, c) -> new PlainRelu(n, descriptors));
            KernelRegistry registry = KernelRegistry.discover().with(KernelProvider.of("vendor", OneDnnBackend.ID,
                    OneDnnKernel.CONTRACT_VERSION, List.of(relu)));
            SplittableRandom random = new SplittableRandom(11);
            GraphBuilder b = new GraphBuilder("relu");
            b.input("x", Shape.of(1, 20, 5, 7));
            b.initializer("w", tensor(random, 20, 20, 1, 1));
            // A convolution first, so that the Relu reads a value in the layout oneDNN chose for it.
            String conv = b.add("conv", new Conv(Window.of(1, 1), 1), "x", "w");
            b.output(b.add("relu", new Activation(ActivationFunction.RELU), conv));
            try (Engine engine = Engine.withBackends(List.of(new OneDnnBackend(), new ReferenceBackend()), registry,
                    EngineOptions.defaults());
                 Graph g = b.build();
                 Tensor x = tensor(random, 1, 20, 5, 7);
                 CompiledModel onednn = engine.compile(g, new CompileOptions(OneDnnBackend.ID, false));
                 CompiledModel reference = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
                PlanReport.Placement placement = onednn.placements().stream().filter(p -> p.node().equals("relu"))
                        .findFirst().orElseThrow();
                assertEquals(List.of(OneDnnBackend.ID, "plain-relu", "vendor", "plain relu in Java"),
                        List.of(placement.backend(), placement.kernel(), placement.provider(), placement.algorithm()));
                Map<String, Tensor> want = reference.run(Map.of("x", x));
                Map<String, Tensor> got = onednn.run(Map.of("x", x));
                assertArrayEquals(want.get(g.outputs().getFirst()).toFloatArray(),
                        got.get(g.outputs().getFirst()).toFloatArray(), 1e-5f);
                want.values().forEach(Tensor::close);
                got.values().forEach(Tensor::close);
            }
        }
    }
}
