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
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.onednn.NativeKernels.Kernel;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oneDNN backend on the library the build brings (the {@code org.bytedeco:dnnl} jar): loaded,
 * running every op kind the six networks use against the reference backend, from many threads,
 * with weights prepared once, and failing cleanly where a user can make it fail.
 */
class OneDnnBackendTest {
    private static final Engine ENGINE = Engine.withBackends(List.of(new OneDnnBackend(), new ReferenceBackend()));
    /** Whether Kiln's kernels compute each kind of work here (on AVX2 and AVX-512 CPUs: {@link ExpectedKernels}). */
    private static final boolean KILNS_SWISH = ExpectedKernels.uses(Kernel.SWISH);
    private static final boolean KILNS_EXCITATION = ExpectedKernels.uses(Kernel.SQUEEZE_EXCITATION);
    private static final boolean KILNS_WINOGRAD = ExpectedKernels.uses(Kernel.WINOGRAD);
    /** The channels per block of oneDNN's blocked layouts: 16 where it uses AVX-512, 8 below (ONEDNN_MAX_CPU_ISA). */
    private static final int ONEDNN_CHANNEL_BLOCK = NativeKernels.Isa.ofOneDnn(
            OneDnnRuntime.get().require().dnnl.effectiveCpuIsa()).orElse(NativeKernels.Isa.AVX2)
            == NativeKernels.Isa.AVX512 ? 16 : 8;

    @Test
    void isFoundByServiceLoaderAndLoadsTheBundledLibrary() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream().map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof OneDnnBackend).toList();
        assertEquals(1, found.size());
        OneDnnBackend backend = (OneDnnBackend) found.getFirst();
        assertTrue(backend.availability().available(), backend.availability().reason());
        assertEquals(1, backend.devices().size());
        assertTrue(backend.devices().getFirst().name().startsWith("oneDNN 3."), backend.devices().toString());
        assertTrue(backend.rank() < 200 && backend.rank() > 0, "below cpu-simd, above reference");
    }

    /** Every op kind the lowering knows, in one graph: convolutions with each epilogue, pools, SE, FC, concat. */
    private static Graph everyOpKind(int batch) {
        SplittableRandom random = new SplittableRandom(11);
        GraphBuilder b = new GraphBuilder("every-op-kind");
        b.input("x", Shape.of(batch, 3, 17, 17));
        b.initializer("w0", tensor(random, 16, 3, 3, 3));
        b.initializer("b0", tensor(random, 16));
        b.initializer("wd", tensor(random, 16, 1, 3, 3));
        b.initializer("w1", tensor(random, 4, 16, 1, 1));
        b.initializer("w2", tensor(random, 16, 4, 1, 1));
        b.initializer("b2", tensor(random, 16));
        b.initializer("wp", tensor(random, 16, 16, 1, 1));
        b.initializer("scale", tensor(random, 16, 1, 1));
        b.initializer("fc_w", tensor(random, 10, 32 * 5 * 5));
        b.initializer("fcb", tensor(random, 10));
        b.initializer("fc2_w", tensor(random, 10, 7));
        String stem = b.add("stem", new Conv(Window.square(3, 2, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU6))), "x", "w0", "b0");
        String dw = b.add("depthwise", new Conv(Window.square(3, 1, 1), 16,
                List.of(new PostOp.Activate(ActivationFunction.HARD_SWISH))), stem, "wd");
        String se = b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), dw, "w1",
                "w2", "", "b2");
        String project = b.add("project", new Conv(Window.of(1, 1), 1, List.of(new PostOp.AddResidual(),
                new PostOp.Activate(ActivationFunction.RELU))), se, "wp", "", stem);
        String scaled = b.add("scaled", Binary.MUL, project, "scale");
        b.initializer("bn_scale", tensor(random, 16));
        b.initializer("bn_bias", tensor(random, 16));
        b.initializer("bn_mean", tensor(random, 16));
        b.initializer("bn_var", Tensor.of(Shape.of(16), 0.5f, 1, 2, 0.25f, 1, 1, 3, 1, 0.5f, 1, 2, 1, 1, 4, 1, 1));
        String normalized = b.add("bn", new BatchNormalization(1e-3f), scaled, "bn_scale", "bn_bias", "bn_mean",
                "bn_var");
        String lrn = b.add("lrn", new Lrn(5, 1e-4f, 0.75f, 2f), normalized);
        String max = b.add("maxpool", new MaxPool(Window.square(2, 2, 0), true), lrn);
        String avg = b.add("avgpool", new AveragePool(Window.square(3, 2, 1), false, false), lrn);
        String both = b.add("concat", new Concat(1), max, avg);
        String tanh = b.add("tanh", new Activation(ActivationFunction.TANH), both);
        String flat = b.add("flatten", new Flatten(1), tanh);
        String fc = b.add("fc", new Gemm(1f, 1f, false, true, List.of(new PostOp.Activate(ActivationFunction.RELU))),
                flat, "fc_w", "fcb");
        String gp = b.add("globalpool", GlobalPool.MAX, both);
        String gflat = b.add("gflatten", new Flatten(1), gp);
        String fc2 = b.add("fc2", new Gemm(1f, 1f, false, false), b.add("slice", new Gemm(1f, 1f, false, false),
                gflat, "sel"), "fc2_w");
        b.initializer("sel", tensor(random, 32, 10));
        String sum = b.add("sum", Binary.ADD, fc, b.add("proj", new Gemm(1f, 1f, false, true), fc2, "fc2t"));
        b.initializer("fc2t", tensor(random, 10, 7));
        b.output(b.add("softmax", new Softmax(1), sum));
        return b.build();
    }

    private static Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[Arrays.stream(dims).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return Tensor.of(Shape.of(dims), v);
    }

    private static Tensor input(int batch, long seed) {
        return tensor(new SplittableRandom(seed), batch, 3, 17, 17);
    }

    private static float[] run(Graph g, String backend, Tensor x) {
        return runOutput(g, backend, x, g.outputs().getFirst());
    }

    private static float[] runOutput(Graph g, String backend, Tensor x, String output) {
        return runOutput(g, backend, Map.of(g.inputs().getFirst().name(), x), output);
    }

    private static float[] runOutput(Graph g, String backend, Map<String, Tensor> inputs, String output) {
        try (CompiledModel model = ENGINE.compile(g, new CompileOptions(backend, false))) {
            Map<String, Tensor> outputs = model.run(inputs);
            try {
                return outputs.get(output).toFloatArray();
            } finally {
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    /** What {@code explain} shows as the implementation of {@code node}. */
    private static String algorithmOf(CompiledModel model, String node) {
        return model.placements().stream().filter(p -> p.node().equals(node)).findFirst().orElseThrow().algorithm();
    }

    private static void assertEveryOutputMatchesTheReference(Graph g, Tensor x) {
        for (String output : g.outputs()) {
            assertClose(runOutput(g, ReferenceBackend.ID, x, output), runOutput(g, OneDnnBackend.ID, x, output));
        }
    }

    static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double largest = 1e-30;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst / largest < 1e-5, "relative difference " + worst / largest);
    }

    @Test
    void everyOpKindMatchesTheReferenceWithNoFallback() {
        for (int batch : new int[]{1, 3}) {
            try (Graph g = everyOpKind(batch); Tensor x = input(batch, 5)) {
                try (CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                    assertEquals(List.of(OneDnnBackend.ID), model.placements().stream().map(p -> p.backend())
                            .distinct().toList(), model.placements().toString());
                }
                assertClose(run(g, ReferenceBackend.ID, x), run(g, OneDnnBackend.ID, x));
            }
        }
    }

    /**
     * Input "x" [batch, 3, height, width], a 3x3 convolution to {@code channels} (as in a network:
     * the squeeze-excitation input is then channels-last) and a squeeze-excitation "se" reducing to
     * 8; returns "se".
     */
    private static String convolutionThenSqueezeExcitation(GraphBuilder b, SplittableRandom random, int batch,
                                                           int channels, int height, int width) {
        b.input("x", Shape.of(batch, 3, height, width));
        b.initializer("w0", tensor(random, channels, 3, 3, 3));
        String features = b.add("features", new Conv(Window.square(3, 1, 1), 1, List.of()), "x", "w0");
        b.initializer("w1", tensor(random, 8, channels, 1, 1));
        b.initializer("b1", tensor(random, 8));
        b.initializer("w2", tensor(random, channels, 8, 1, 1));
        b.initializer("b2", tensor(random, channels));
        return b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), features,
                "w1", "w2", "b1", "b2");
    }

    /**
     * The excitation (two one-pixel convolutions with their activations) is one call of Kiln's
     * kernel, for every activation the squeeze and the gate may have, with and without biases,
     * on 20 channels (a tail past 16) and two images; on 64 channels reduced to 40, large enough
     * for the kernel to share it between threads. Same answers as the reference.
     */
    @Test
    void squeezeExcitationsOfEveryActivationMatchTheReference() {
        List<ActivationFunction> squeezes = List.of(ActivationFunction.RELU, ActivationFunction.SILU,
                ActivationFunction.RELU6, ActivationFunction.leakyRelu(0.1f), ActivationFunction.TANH,
                ActivationFunction.HARD_SWISH, ActivationFunction.SIGMOID);
        List<ActivationFunction> gates = List.of(ActivationFunction.SIGMOID,
                ActivationFunction.hardSigmoid(0.2f, 0.5f));
        int seed = 0;
        for (int[] size : new int[][]{{20, 6}, {640, 40}}) {
            for (ActivationFunction squeeze : squeezes) {
                for (ActivationFunction gate : gates) {
                    boolean biases = seed % 2 == 0;
                    SplittableRandom random = new SplittableRandom(seed++);
                    int channels = size[0];
                    int reduced = size[1];
                    GraphBuilder b = new GraphBuilder("se-activations");
                    b.input("x", Shape.of(2, channels, 6, 5));
                    b.initializer("w1", tensor(random, reduced, channels, 1, 1));
                    b.initializer("b1", tensor(random, reduced));
                    b.initializer("w2", tensor(random, channels, reduced, 1, 1));
                    b.initializer("b2", tensor(random, channels));
                    String[] inputs = biases ? new String[]{"x", "w1", "w2", "b1", "b2"}
                            : new String[]{"x", "w1", "w2"};
                    b.output(b.add("se", new SqueezeExcitation(squeeze, gate), inputs));
                    try (Graph g = b.build(); Tensor x = tensor(random, 2, channels, 6, 5);
                         CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                        String algorithm = algorithmOf(model, "se");
                        assertEquals(KILNS_EXCITATION, algorithm.contains("excitation by Kiln's kernel"), squeeze + ", "
                                + gate + ": " + algorithm);
                        assertEveryOutputMatchesTheReference(g, x);
                    }
                }
            }
        }
    }

    /**
     * For one image the squeeze-excitation gate is multiplied in as a depthwise convolution whose
     * weights are the gate, when oneDNN's weight layout holds the channels in order: in blocks of
     * 16 where oneDNN uses AVX-512 (32 channels are, 24 are padded to 32), of 8 on AVX2 (both
     * are); for a batch, and where the channels are padded, by the broadcast multiply. Same answers.
     */
    @Test
    void squeezeExcitationMultipliesAsDepthwiseForOneImage() {
        for (int channels : new int[]{32, 24}) {
            for (int batch : new int[]{1, 2}) {
                SplittableRandom random = new SplittableRandom(channels + batch);
                GraphBuilder b = new GraphBuilder("se");
                b.output(convolutionThenSqueezeExcitation(b, random, batch, channels, 9, 11));
                try (Graph g = b.build(); Tensor x = tensor(random, batch, 3, 9, 11);
                     CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                    String algorithm = model.placements().getLast().algorithm();
                    boolean depthwise = batch == 1 && channels % ONEDNN_CHANNEL_BLOCK == 0;
                    assertEquals(depthwise, algorithm.contains("gate multiplied as depthwise weights"),
                            channels + " channels, batch " + batch + ": " + algorithm);
                    assertClose(run(g, ReferenceBackend.ID, x), run(g, OneDnnBackend.ID, x));
                }
            }
        }
    }

    /**
     * For one image, a squeeze-excitation whose only reader is a convolution with fewer weights
     * than the excitation has values leaves its output unmultiplied: the convolution scales its
     * weights by the gate each run. Not for a batch, not when the output is read elsewhere too,
     * not when the weights outnumber the activation. Same answers as the reference in every case.
     */
    @Test
    void squeezeExcitationGateScalesTheWeightsOfTheConvolutionReadingIt() {
        record Case(int batch, int channels, int size, int kernel, boolean seIsOutput, boolean gated) {
        }
        List<Case> cases = List.of(new Case(1, 32, 9, 1, false, true), new Case(1, 24, 9, 1, false, true),
                new Case(1, 32, 16, 3, false, true), new Case(2, 32, 9, 1, false, false),
                new Case(1, 32, 9, 1, true, false), new Case(1, 32, 2, 1, false, false));
        for (Case c : cases) {
            SplittableRandom random = new SplittableRandom(c.hashCode());
            int channels = c.channels();
            GraphBuilder b = new GraphBuilder("se-then-conv");
            String se = convolutionThenSqueezeExcitation(b, random, c.batch(), channels, c.size(), c.size());
            b.initializer("w3", tensor(random, 16, channels, c.kernel(), c.kernel()));
            b.initializer("b3", tensor(random, 16));
            b.output(b.add("project", new Conv(Window.square(c.kernel(), 1, c.kernel() / 2), 1, List.of()), se,
                    "w3", "b3"));
            if (c.seIsOutput()) {
                b.output(se);
            }
            try (Graph g = b.build(); Tensor x = tensor(random, c.batch(), 3, c.size(), c.size());
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String seAlgorithm = algorithmOf(model, "se");
                assertEquals(c.gated(), seAlgorithm.contains("gate applied by project"), c + ": " + seAlgorithm);
                String projectAlgorithm = model.placements().getLast().algorithm();
                // The weights' layout allows the scaling (a multiply on a plain [outer, channels, inner] view).
                assertEquals(c.gated(), projectAlgorithm.startsWith("weights scaled by the gate + "),
                        c + ": " + projectAlgorithm);
                assertEveryOutputMatchesTheReference(g, x);
            }
        }
    }

    /**
     * A stem (a convolution on the image's few channels) whose only readers are poolings, read in
     * turn only by convolutions as their source, reads the plain NCHW image itself and writes
     * oneDNN's blocked layout, which the pooling keeps; the reorder to channels-last comes after
     * the pooling. Not when a convolution reads the stem too, nor when the pooling is also a
     * residual, nor for 16 input channels. Same answers as the reference in every case.
     */
    @Test
    void aStemReadOnlyByPoolingReadsTheImageAsItCame() {
        enum Extra { NONE, CONVOLUTION_OF_STEM, POOLING_AS_RESIDUAL }
        record Case(int batch, int channels, Extra extra, boolean direct) {
        }
        List<Case> cases = List.of(new Case(1, 3, Extra.NONE, true), new Case(2, 3, Extra.NONE, true),
                new Case(1, 3, Extra.CONVOLUTION_OF_STEM, false), new Case(1, 3, Extra.POOLING_AS_RESIDUAL, false),
                new Case(1, 16, Extra.NONE, false));
        for (Case c : cases) {
            SplittableRandom random = new SplittableRandom(c.hashCode());
            GraphBuilder b = new GraphBuilder("stem-then-pool");
            b.input("x", Shape.of(c.batch(), c.channels(), 23, 23));
            b.initializer("w0", tensor(random, 32, c.channels(), 7, 7));
            b.initializer("b0", tensor(random, 32));
            b.initializer("w1", tensor(random, 16, 32, 1, 1));
            b.initializer("w2", tensor(random, 32, 32, 3, 3));
            String stem = b.add("stem", new Conv(Window.square(7, 2, 3), 1,
                    List.of(new PostOp.Activate(ActivationFunction.RELU))), "x", "w0", "b0");
            String pooled = b.add("pool", new MaxPool(Window.square(3, 2, 1), false), stem);
            b.output(b.add("next", new Conv(Window.of(1, 1), 1, List.of()), pooled, "w1"));
            switch (c.extra()) {
                case NONE -> {
                }
                case CONVOLUTION_OF_STEM -> b.output(b.add("side", new Conv(Window.of(1, 1), 1, List.of()), stem,
                        "w1"));
                case POOLING_AS_RESIDUAL -> b.output(b.add("block", new Conv(Window.square(3, 1, 1), 1,
                        List.of(new PostOp.AddResidual())), pooled, "w2", "", pooled));
            }
            try (Graph g = b.build(); Tensor x = tensor(random, c.batch(), c.channels(), 23, 23);
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String stemAlgorithm = algorithmOf(model, "stem");
                assertEquals(c.direct(), stemAlgorithm.matches(".* to aBcd\\d+b.*"), c + ": " + stemAlgorithm);
                assertEveryOutputMatchesTheReference(g, x);
            }
        }
    }

    /**
     * Two residual blocks in a row, as in ResNet: each block's last convolution adds the block's
     * input by summing into that input's storage when nothing reads it afterwards (both blocks,
     * the second writing where the first did). Not when the residual is the partition's input
     * (the caller's bytes), nor when a later node or the partition's outputs still read it.
     * Same answers as the reference in every case.
     */
    @Test
    void aResidualReadForTheLastTimeIsSummedInPlace() {
        record Case(String name, boolean stemFirst, boolean readAfter, boolean residualIsOutput,
                    List<Boolean> inPlace) {
        }
        List<Case> cases = List.of(new Case("two blocks", true, false, false, List.of(true, true)),
                new Case("image as residual", false, false, false, List.of(false, true)),
                new Case("residual read after", true, true, false, List.of(false, true)),
                new Case("residual is an output", true, false, true, List.of(false, true)));
        for (int batch : new int[]{1, 2}) {
            for (Case c : cases) {
                SplittableRandom random = new SplittableRandom(c.name().hashCode() + batch);
                GraphBuilder b = new GraphBuilder("residual-blocks");
                b.input("x", Shape.of(batch, 16, 9, 9));
                b.initializer("ws", tensor(random, 16, 16, 3, 3));
                String blockInput = c.stemFirst() ? b.add("stem", new Conv(Window.square(3, 1, 1), 1,
                        List.of(new PostOp.Activate(ActivationFunction.RELU))), "x", "ws") : "x";
                for (int block = 0; block < 2; block++) {
                    b.initializer("wa" + block, tensor(random, 8, 16, 1, 1));
                    b.initializer("wb" + block, tensor(random, 16, 8, 3, 3));
                    b.initializer("bb" + block, tensor(random, 16));
                    String reduced = b.add("reduce" + block, new Conv(Window.of(1, 1), 1,
                            List.of(new PostOp.Activate(ActivationFunction.RELU))), blockInput, "wa" + block);
                    blockInput = b.add("block" + block, new Conv(Window.square(3, 1, 1), 1, List.of(
                                    new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))), reduced,
                            "wb" + block, "bb" + block, blockInput);
                    if (block == 0 && c.readAfter()) {
                        // Reads the block's output too, so it runs after the block.
                        b.output(b.add("late", Binary.ADD, blockInput, c.stemFirst() ? "stem" : "x"));
                    }
                }
                b.output(blockInput);
                if (c.residualIsOutput()) {
                    b.output("stem");
                }
                try (Graph g = b.build(); Tensor x = tensor(random, batch, 16, 9, 9);
                     CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                    for (int block = 0; block < 2; block++) {
                        String name = "block" + block;
                        String algorithm = algorithmOf(model, name);
                        assertEquals(c.inPlace().get(block), algorithm.contains("residual summed in place"),
                                c + " batch " + batch + ", " + name + ": " + algorithm);
                    }
                    assertEveryOutputMatchesTheReference(g, x);
                }
            }
        }
    }

    /**
     * A convolution whose epilogue ends with swish is created without it, and Kiln's kernel swishes
     * its output in place after it, from 16,384 output values (here 16 channels of 40x40); smaller
     * ones keep oneDNN's post-op (as every one does where the kernels are not loaded: a CPU without
     * AVX-512). Also after a residual summed in place. Same answers as the reference in every case.
     */
    @Test
    void aSwishEndingALargeConvolutionIsComputedByKilnsKernel() {
        for (int size : new int[]{8, 40}) {
            for (boolean residual : new boolean[]{false, true}) {
                SplittableRandom random = new SplittableRandom(size + (residual ? 1 : 0));
                GraphBuilder b = new GraphBuilder("swish");
                b.input("x", Shape.of(1, 3, size, size));
                b.initializer("w0", tensor(random, 16, 3, 3, 3));
                b.initializer("w1", tensor(random, 16, 16, 3, 3));
                b.initializer("w2", tensor(random, 16, 16, 1, 1));
                b.initializer("b2", tensor(random, 16));
                String stem = b.add("stem", new Conv(Window.square(3, 1, 1), 1, List.of()), "x", "w0");
                String middle = b.add("middle", new Conv(Window.square(3, 1, 1), 1, List.of()), stem, "w1");
                List<PostOp> epilogue = residual
                        ? List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.SILU))
                        : List.of(new PostOp.Activate(ActivationFunction.SILU));
                b.output(residual ? b.add("out", new Conv(Window.of(1, 1), 1, epilogue), middle, "w2", "b2", stem)
                        : b.add("out", new Conv(Window.of(1, 1), 1, epilogue), middle, "w2", "b2"));
                try (Graph g = b.build(); Tensor x = tensor(random, 1, 3, size, size);
                     CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                    String algorithm = algorithmOf(model, "out");
                    String which = size + "x" + size + (residual ? " with a residual: " : ": ") + algorithm;
                    assertEquals(size == 40 && KILNS_SWISH, algorithm.endsWith("swish by Kiln's "
                            + ExpectedKernels.IN_USE.map(isa -> isa.label).orElse("") + " kernel"), which);
                    assertEquals(residual, algorithm.contains("residual summed in place"), which);
                    assertEveryOutputMatchesTheReference(g, x);
                }
            }
        }
    }

    /**
     * A 3x3 convolution of stride 1 with enough tiles and channels runs as Winograd F(2x2, 3x3):
     * odd output sizes (the last tiles half outside), channel counts past a multiple of 16, two
     * images, pads of 0, 1 and uneven ones, no bias, relu and clip, a residual added before them.
     * At 7x7 on 32 channels (at 7x7 on 64 it is Winograd), on 8 channels, with a stride of 2, a
     * dilation, a swish or a relu before the residual, the direct convolution computes it (as it
     * computes all where the kernels are not loaded).
     * Same answers as the reference in every case.
     */
    @Test
    void threeByThreeConvolutionsOfStrideOneRunAsWinograd() {
        record Case(int batch, int channels, int outChannels, int height, int width, Window window,
                    List<PostOp> epilogue, boolean bias, boolean residual, boolean winograd) {
        }
        List<PostOp> relu = List.of(new PostOp.Activate(ActivationFunction.RELU));
        List<PostOp> relu6 = List.of(new PostOp.Activate(ActivationFunction.RELU6));
        List<PostOp> swish = List.of(new PostOp.Activate(ActivationFunction.SILU));
        List<PostOp> none = List.of();
        Window same = Window.square(3, 1, 1);
        for (Case c : List.of(
                new Case(1, 16, 16, 10, 10, same, none, true, false, true),
                new Case(2, 20, 36, 15, 13, same, relu, true, false, true),
                new Case(1, 32, 16, 12, 14, Window.square(3, 1, 0), relu6, false, false, true),
                new Case(1, 24, 40, 11, 12, same.withPads(1, 0, 2, 1), relu, true, false, true),
                new Case(1, 32, 32, 7, 7, same, relu, true, false, false),
                new Case(1, 64, 72, 7, 7, same, relu, true, false, true),
                new Case(1, 8, 32, 20, 20, same, relu, true, false, false),
                new Case(1, 32, 32, 20, 20, Window.square(3, 2, 1), relu, true, false, false),
                new Case(1, 32, 32, 20, 20, same.withDilations(2, 2).withPads(2, 2, 2, 2), relu, true, false, false),
                new Case(1, 32, 32, 20, 20, same, swish, true, false, false),
                new Case(1, 32, 32, 20, 20, same, List.of(new PostOp.AddResidual()), true, true, true),
                new Case(1, 16, 24, 13, 11, same, List.of(new PostOp.AddResidual(),
                        new PostOp.Activate(ActivationFunction.RELU)), false, true, true),
                new Case(1, 32, 32, 20, 20, same, List.of(new PostOp.Activate(ActivationFunction.RELU),
                        new PostOp.AddResidual()), true, true, false))) {
            SplittableRandom random = new SplittableRandom(c.hashCode());
            GraphBuilder b = new GraphBuilder("winograd");
            b.input("x", Shape.of(c.batch(), c.channels(), c.height(), c.width()));
            b.initializer("w", tensor(random, c.outChannels(), c.channels(), 3, 3));
            b.initializer("b", tensor(random, c.outChannels()));
            List<String> inputs = new ArrayList<>(List.of("x", "w"));
            if (c.bias() || c.residual()) {
                inputs.add(c.bias() ? "b" : "");
            }
            if (c.residual()) {
                b.initializer("r", tensor(random, c.batch(), c.outChannels(), c.height(), c.width()));
                inputs.add(b.add("residual", new Activation(ActivationFunction.RELU), "r"));
            }
            b.output(b.add("conv", new Conv(c.window(), 1, c.epilogue()), inputs.toArray(String[]::new)));
            try (Graph g = b.build(); Tensor x = tensor(random, c.batch(), c.channels(), c.height(), c.width());
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String algorithm = algorithmOf(model, "conv");
                assertEquals(c.winograd() && KILNS_WINOGRAD, algorithm.startsWith("Winograd F(2x2,3x3)"),
                        c + ": " + algorithm);
                assertEveryOutputMatchesTheReference(g, x);
            }
        }
    }

    /**
     * A residual that comes in plain layout (a partition input: the model's own, or a value from
     * another backend) while the convolution writes channels-last or blocked: read as it is, oneDNN
     * offers only its reference convolution for the binary add (20.7 ms instead of 0.3 for one of
     * EfficientNet-B0's 1x1s with its first blocks pinned to cpu-simd), so it is reordered into the
     * output's layout first. Read once by the convolution, and also by another node.
     */
    @Test
    void aResidualInAnotherLayoutIsReorderedRatherThanLeftToTheReferenceConvolution() {
        for (boolean alsoAnOutput : List.of(false, true)) {
            SplittableRandom random = new SplittableRandom(alsoAnOutput ? 7 : 11);
            GraphBuilder b = new GraphBuilder("plain-residual");
            b.input("x", Shape.of(1, 40, 28, 28));
            b.input("r", Shape.of(1, 48, 28, 28));
            b.initializer("w", tensor(random, 48, 40, 1, 1));
            b.initializer("b", tensor(random, 48));
            b.output(b.add("conv", new Conv(Window.square(1, 1, 0), 1, List.of(new PostOp.AddResidual())),
                    "x", "w", "b", "r"));
            if (alsoAnOutput) {
                b.output(b.add("relu", new Activation(ActivationFunction.RELU), "r"));
            }
            try (Graph g = b.build(); Tensor x = tensor(random, 1, 40, 28, 28); Tensor r = tensor(random, 1, 48, 28, 28);
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String algorithm = algorithmOf(model, "conv");
                assertFalse(algorithm.contains("ref:"), algorithm);
                for (String output : g.outputs()) {
                    assertClose(runOutput(g, ReferenceBackend.ID, Map.of("x", x, "r", r), output),
                            runOutput(g, OneDnnBackend.ID, Map.of("x", x, "r", r), output));
                }
            }
        }
    }

    /**
     * A squeeze-excitation right after Kiln's swish of one channels-last image takes its mean over
     * the plane from that swish, which adds each channel up as it goes (32 and 24 channels, the
     * latter with a tail past 16); for a batch, after a swish too small for the kernel (8x8), and
     * after a relu over 32 channels (a Winograd convolution where Kiln's kernels run, whose last
     * step, the output transform, is Kiln's too), oneDNN's pooling computes it (as it does for all where the kernels are not loaded). Same
     * answers as the reference in every case.
     */
    @Test
    void aSqueezeExcitationAfterKilnsSwishTakesItsMeansFromIt() {
        record Case(int batch, int in, int channels, int size, ActivationFunction features, boolean fused) {
        }
        ActivationFunction swish = ActivationFunction.SILU;
        for (Case c : List.of(new Case(1, 3, 32, 24, swish, true), new Case(1, 3, 24, 28, swish, true),
                new Case(2, 3, 32, 24, swish, false), new Case(1, 3, 32, 8, swish, false),
                new Case(1, 32, 32, 24, ActivationFunction.RELU, false))) {
            SplittableRandom random = new SplittableRandom(c.hashCode());
            GraphBuilder b = new GraphBuilder("swish-then-se");
            b.input("x", Shape.of(c.batch(), c.in(), c.size(), c.size()));
            b.initializer("w0", tensor(random, c.channels(), c.in(), 3, 3));
            b.initializer("w1", tensor(random, 8, c.channels(), 1, 1));
            b.initializer("b1", tensor(random, 8));
            b.initializer("w2", tensor(random, c.channels(), 8, 1, 1));
            b.initializer("b2", tensor(random, c.channels()));
            String features = b.add("features", new Conv(Window.square(3, 1, 1), 1,
                    List.of(new PostOp.Activate(c.features()))), "x", "w0");
            b.output(b.add("se", new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID), features,
                    "w1", "w2", "b1", "b2"));
            try (Graph g = b.build(); Tensor x = tensor(random, c.batch(), c.in(), c.size(), c.size());
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String se = algorithmOf(model, "se");
                assertEquals(c.fused() && KILNS_SWISH,
                        se.startsWith("mean over the plane added up by the swish of features"), c + ": " + se);
                assertEveryOutputMatchesTheReference(g, x);
            }
        }
    }

    @Test
    void oneModelRunsFromManyThreadsWithTheSameAnswers() throws Exception {
        try (Graph g = everyOpKind(2);
             CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
            List<float[]> expected = new ArrayList<>();
            for (int seed = 0; seed < 4; seed++) {
                try (Tensor x = input(2, seed); Tensor y = model.run(x)) {
                    expected.add(y.toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    results.add(pool.submit(() -> {
                        for (int i = 0; i < 25; i++) {
                            try (Tensor x = input(2, seed); Tensor y = model.run(x)) {
                                assertClose(expected.get(seed), y.toFloatArray());
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> r : results) {
                    r.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * oneDNN sizes each primitive's work split by the OpenMP thread count where the primitive is
     * created, and runs it with that many threads whatever the running thread's setting: compiled
     * on a thread with the default (every core), a one-thread engine still ran on all of them. A
     * one-thread engine that compiles and runs a model must start no OpenMP team: no helper of
     * its worker or of the caller (Linux threads inherit their creator's name) exists afterwards
     * (with the count not set where primitives are created, the worker had one). On a one-core
     * machine, where the default is one thread too, this cannot tell, and passes.
     */
    @Test
    void aOneThreadEngineRunsOneDnnOnItsCallerAlone() throws Exception {
        Engine oneThread = Engine.withBackends(List.of(new OneDnnBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withThreads(1));
        String name = "kiln-solo-call"; // at most 15 characters: Linux keeps no more of a name
        java.util.concurrent.FutureTask<Map<String, Long>> compileAndRun = new java.util.concurrent.FutureTask<>(() -> {
            try (Graph g = fourConvolutions(); CompiledModel model = oneThread.compile(g,
                    new CompileOptions(OneDnnBackend.ID, false));
                 Tensor x = Tensor.allocate(1, 64, 56, 56)) {
                for (int i = 0; i < 5; i++) {
                    model.run(x).close();
                }
            }
            return threadNames(); // while this thread lives: GNU OpenMP keeps a thread's helpers as long
        });
        new Thread(compileAndRun, name).start();
        Map<String, Long> names = compileAndRun.get(2, TimeUnit.MINUTES);
        // The model compiles on the one-thread engine's worker and runs on the caller: neither has a helper.
        names.forEach((thread, count) -> {
            if (thread.equals(name) || thread.startsWith("kiln-worker-1-")) {
                assertEquals(1L, count, thread + " and no OpenMP helper of its own: " + names);
            }
        });
    }

    /**
     * Work too small to share is given one thread when its primitive is created (the count
     * oneDNN then keeps, see {@link #aOneThreadEngineRunsOneDnnOnItsCallerAlone}): a fork and join
     * costs more than a squeeze-excitation convolution on one pixel. Larger work keeps the
     * engine's threads. The choice shows in the algorithm {@code explain} prints.
     */
    @Test
    void workTooSmallToShareRunsOnOneThread() {
        SplittableRandom random = new SplittableRandom(11);
        GraphBuilder b = new GraphBuilder("small-and-large");
        b.input("pixel", Shape.of(1, 1152, 1, 1));
        b.input("image", Shape.of(1, 48, 56, 56));
        b.initializer("squeezeWeights", tensor(random, 48, 1152, 1, 1));
        b.initializer("wideWeights", tensor(random, 256, 48, 3, 3));
        b.output(b.add("squeeze", new Conv(Window.square(1, 1, 0), 1, List.of()), "pixel", "squeezeWeights"));
        // 48 channels to 256 at 56 x 56: 347 M multiply-adds, plenty for two threads
        b.output(b.add("wide", new Conv(Window.square(3, 1, 1), 1, List.of()), "image", "wideWeights"));
        // Depthwise, 192 channels at 28 x 28: 1.4 M multiply-adds but 300 k elements moved, memory-bound
        b.input("planes", Shape.of(1, 192, 28, 28));
        b.initializer("depthwiseWeights", tensor(random, 192, 1, 3, 3));
        b.output(b.add("depthwise", new Conv(Window.square(3, 1, 1), 192, List.of()), "planes", "depthwiseWeights"));
        Engine twoThreads = Engine.withBackends(List.of(new OneDnnBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withThreads(2));
        try (Graph g = b.build(); CompiledModel model = twoThreads.compile(g,
                new CompileOptions(OneDnnBackend.ID, false))) {
            Map<String, String> algorithms = model.placements().stream()
                    .collect(Collectors.toMap(PlanReport.Placement::node, PlanReport.Placement::algorithm));
            assertTrue(algorithms.get("squeeze").endsWith(" on 1 thread"), algorithms.toString());
            assertFalse(algorithms.get("wide").contains(" on 1 thread"), algorithms.toString());
            assertFalse(algorithms.get("depthwise").contains(" on 1 thread"), algorithms.toString());
        }
    }

    /**
     * One convolution's step may get another thread count in a later compilation (the measured
     * fork and join, {@link ForkJoinCost}, changes with the host's load). oneDNN's primitive cache
     * must not hand the primitive split for two threads to the compilation that runs it on one,
     * nor the reverse: run with the wrong count, it skipped part of the work (ResNet-50 and
     * MobileNet v1 at batch 1 were wrong).
     */
    @Test
    void aStepsThreadCountChangingBetweenCompilationsKeepsItsResult() {
        SplittableRandom random = new SplittableRandom(13);
        GraphBuilder b = new GraphBuilder("one-by-one");
        b.input("x", Shape.of(1, 256, 14, 14));
        b.initializer("w", tensor(random, 256, 256, 1, 1));
        // 12.8 M multiply-adds: shared with no fork and join cost, one thread with a large one
        b.output(b.add("conv", new Conv(Window.square(1, 1, 0), 1, List.of()), "x", "w"));
        Engine twoThreads = Engine.withBackends(List.of(new OneDnnBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withThreads(2));
        String before = System.getProperty(ForkJoinCost.PROPERTY);
        try (Graph g = b.build(); Tensor x = tensor(random, 1, 256, 14, 14)) {
            float[] expected = run(g, ReferenceBackend.ID, x);
            for (String cost : List.of("0", "1000000", "0", "1000000")) {
                System.setProperty(ForkJoinCost.PROPERTY, cost);
                try (CompiledModel model = twoThreads.compile(g, new CompileOptions(OneDnnBackend.ID, false));
                     Tensor y = model.run(x)) {
                    assertEquals(!cost.equals("0"), algorithmOf(model, "conv").contains(" on 1 thread"),
                            algorithmOf(model, "conv"));
                    assertClose(expected, y.toFloatArray());
                }
            }
        } finally {
            if (before == null) {
                System.clearProperty(ForkJoinCost.PROPERTY);
            } else {
                System.setProperty(ForkJoinCost.PROPERTY, before);
            }
        }
    }

    /**
     * Compiles and runs from several threads at once still give OpenMP one team: the oneDNN
     * thread of the engine's count and its one helper. Any other thread that started a parallel
     * region would have a helper of its own, named after it (Linux threads inherit their
     * creator's name), and GNU OpenMP, managing more threads than CPUs, would cut their spinning.
     */
    @Test
    void oneTeamRunsEveryonesOneDnnWork() throws Exception {
        Engine twoThreads = Engine.withBackends(List.of(new OneDnnBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withThreads(2));
        try (Graph g = fourConvolutions()) {
            onThreeCallersAtOnce(() -> {
                try (CompiledModel model = twoThreads.compile(g, new CompileOptions(OneDnnBackend.ID, false));
                     Tensor x = Tensor.allocate(1, 64, 56, 56)) {
                    for (int i = 0; i < 5; i++) {
                        model.run(x).close();
                    }
                }
                return null;
            });
        }
        Map<String, Long> names = threadNames();
        assertEquals(2L, names.getOrDefault("kiln-onednn-2", 0L), "the oneDNN thread and one helper: " + names);
        assertEquals(2L, names.getOrDefault("kiln-worker-2-1", 0L) + names.getOrDefault("kiln-worker-2-2", 0L),
                "the engine's two workers and no helper of theirs: " + names);
    }

    /**
     * A one-thread engine has no OpenMP helpers to duplicate, so its callers run their oneDNN
     * work themselves, side by side rather than in turn on a oneDNN thread: none is started for
     * it. Concurrent runs of one model, each in a workspace of its own, agree with a run alone.
     */
    @Test
    void oneThreadEnginesRunOnTheirCallers() throws Exception {
        Engine oneThread = Engine.withBackends(List.of(new OneDnnBackend()), KernelRegistry.discover(),
                EngineOptions.defaults().withThreads(1));
        SplittableRandom random = new SplittableRandom(3);
        float[] values = new float[64 * 56 * 56];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        try (Graph g = fourConvolutions(); CompiledModel model = oneThread.compile(g,
                new CompileOptions(OneDnnBackend.ID, false));
             Tensor x = Tensor.of(Shape.of(1, 64, 56, 56), values)) {
            float[] alone;
            try (Tensor y = model.run(x)) {
                alone = y.toFloatArray();
            }
            onThreeCallersAtOnce(() -> {
                for (int i = 0; i < 5; i++) {
                    try (Tensor y = model.run(x)) {
                        assertArrayEquals(alone, y.toFloatArray());
                    }
                }
                return null;
            });
        }
        Map<String, Long> names = threadNames();
        assertFalse(names.containsKey("kiln-onednn-1"), "no oneDNN thread for one-thread engines: " + names);
    }

    /** Runs {@code work} on three threads at once and waits for all three, rethrowing a failure. */
    private static void onThreeCallersAtOnce(java.util.concurrent.Callable<?> work) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                done.add(callers.submit(work));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            callers.shutdown();
        }
    }

    /** How many live threads of this process carry each name (Linux threads inherit their creator's). */
    private static Map<String, Long> threadNames() throws IOException {
        Map<String, Long> names = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    names.merge(Files.readString(task.resolve("comm")).strip(), 1L, Long::sum);
                } catch (IOException gone) {
                    // the thread ended while listed
                }
            }
        }
        return names;
    }

    /** Four 3x3 convolutions over 64 channels at 56 x 56: enough work per primitive for both cores. */
    private static Graph fourConvolutions() {
        SplittableRandom random = new SplittableRandom(7);
        GraphBuilder b = new GraphBuilder("four-convolutions");
        b.input("x", Shape.of(1, 64, 56, 56));
        String v = "x";
        for (int i = 0; i < 4; i++) {
            float[] w = new float[64 * 64 * 9];
            for (int j = 0; j < w.length; j++) {
                w[j] = (float) random.nextGaussian() * 0.05f;
            }
            b.initializer("w" + i, Tensor.of(Shape.of(64, 64, 3, 3), w));
            v = b.add("conv" + i, new Conv(Window.square(3, 1, 1), 1,
                    List.of(new PostOp.Activate(ActivationFunction.RELU))), v, "w" + i);
        }
        b.output(v);
        return b.build();
    }

    @Test
    void weightsArePreparedOncePerModelAcrossBatchSizes() {
        try (Graph g = everyOpKind(Shape.DYNAMIC);
             CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
            try (Tensor x = input(1, 1)) {
                model.run(x).close();
            }
            long prepared = model.preparedWeightBytes();
            assertTrue(prepared > 0);
            try (Tensor x = input(4, 1); Tensor y = model.run(x)) {
                assertEquals(prepared, model.preparedWeightBytes(), "a new batch size reordered weights again");
                assertClose(run(g, ReferenceBackend.ID, x), y.toFloatArray());
            }
        }
    }

    /**
     * A residual in the output's channels-last layout, read for the last time by the Winograd
     * convolution, is added in place (its buffer becomes the output, as with oneDNN's sum
     * post-op); one that is read again (here: also an output of the model) is added from its own
     * buffer. Same answers as the reference.
     */
    @Test
    void aWinogradConvolutionAddsItsResidualInPlaceWhenItReadsItLast() {
        for (boolean readAgain : new boolean[]{false, true}) {
            SplittableRandom random = new SplittableRandom(readAgain ? 1 : 2);
            GraphBuilder b = new GraphBuilder("winograd-residual");
            b.input("x", Shape.of(1, 32, 14, 14));
            b.initializer("side", tensor(random, 32, 32, 1, 1));
            b.initializer("w", tensor(random, 32, 32, 3, 3));
            b.initializer("b", tensor(random, 32));
            String side = b.add("shortcut", new Conv(Window.of(1, 1), 1, List.of()), "x", "side");
            b.output(b.add("conv", new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.AddResidual(),
                    new PostOp.Activate(ActivationFunction.RELU))), "x", "w", "b", side));
            if (readAgain) {
                b.output(side);
            }
            try (Graph g = b.build(); Tensor x = tensor(random, 1, 32, 14, 14);
                 CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
                String algorithm = algorithmOf(model, "conv");
                assertEquals(KILNS_WINOGRAD, algorithm.startsWith("Winograd"), algorithm);
                assertEquals(KILNS_WINOGRAD && !readAgain, algorithm.endsWith("residual added in place"), algorithm);
                assertEveryOutputMatchesTheReference(g, x);
            }
        }
    }

    /** The Winograd weights too: the matmul of another batch size reads the layout chosen first. */
    @Test
    void winogradWeightsArePreparedOnceAcrossBatchSizes() {
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("winograd-batches");
        b.input("x", Shape.of(Shape.DYNAMIC, 32, 12, 12));
        b.initializer("w", tensor(random, 48, 32, 3, 3));
        b.output(b.add("conv", new Conv(Window.square(3, 1, 1), 1, List.of()), "x", "w"));
        try (Graph g = b.build();
             CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
            try (Tensor x = tensor(random, 1, 32, 12, 12)) {
                model.run(x).close();
            }
            long prepared = model.preparedWeightBytes();
            for (int batch : new int[]{3, 8}) {
                try (Tensor x = tensor(random, batch, 32, 12, 12); Tensor y = model.run(x)) {
                    assertEquals(KILNS_WINOGRAD, algorithmOf(model, "conv").startsWith("Winograd"));
                    assertEquals(prepared, model.preparedWeightBytes(), "batch " + batch + " prepared weights again");
                    assertClose(run(g, ReferenceBackend.ID, x), y.toFloatArray());
                }
            }
        }
    }

    @Test
    void runningAfterCloseIsAnExceptionAndClosingTwiceIsHarmless() {
        try (Graph g = everyOpKind(1); Tensor x = input(1, 1)) {
            CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false));
            model.run(x).close();
            model.close();
            model.close();
            assertThrows(IllegalStateException.class, () -> model.run(x));
        }
    }

    @Test
    void aWorkspaceChecksShapesAndRefusesUseAfterClose() {
        Node relu = new Node("relu", new Activation(ActivationFunction.RELU), List.of("x"), List.of("y"));
        Shape shape = Shape.of(2, 8, 5, 5);
        BoundNode bound = new BoundNode(relu, List.of(shape), List.of(shape), java.util.Arrays.asList((Tensor) null));
        Partition partition = new Partition(0, List.of(bound), List.of("x"), List.of("y"),
                Map.of("x", shape, "y", shape), Map.of());
        try (CompiledPartition compiled = new OneDnnBackend().compile(partition,
                CompileContext.standalone(Device.HOST_CPU));
             Tensor wrong = Tensor.allocate(2, 8, 5, 4);
             Tensor x = Tensor.allocate(shape);
             Tensor y = Tensor.allocate(shape)) {
            x.set(7, -3f);
            x.set(8, 3f);
            Workspace workspace = compiled.newWorkspace();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> workspace.upload(0, wrong));
            assertTrue(e.getMessage().contains("[2, 8, 5, 5]"), e.getMessage());
            workspace.upload(0, x);
            workspace.execute();
            assertThrows(IllegalArgumentException.class, () -> workspace.download(0, wrong));
            workspace.download(0, y);
            assertEquals(0f, y.get(7));
            assertEquals(3f, y.get(8));
            workspace.close();
            workspace.close();
            assertThrows(IllegalStateException.class, workspace::execute);
            assertThrows(IllegalStateException.class, () -> workspace.upload(0, x));
        }
    }

    /** Per-node timing ({@code kiln bench --profile}): each node once, and the same output as an untimed run. */
    @Test
    void aTimedRunReportsEveryNodeOnceAndComputesWhatAnUntimedRunDoes() {
        try (Graph g = everyOpKind(2); CompiledModel model = ENGINE.compile(g,
                new CompileOptions(OneDnnBackend.ID, false)); Tensor x = input(2, 4)) {
            Partition plan = InternalAccess.plan(model, 2).partitions().getFirst();
            try (CompiledPartition compiled = new OneDnnBackend().compile(plan, CompileContext.standalone(
                    Device.HOST_CPU)); Workspace workspace = compiled.newWorkspace();
                 Tensor untimed = Tensor.allocate(plan.shape(plan.outputs().getFirst()));
                 Tensor timed = Tensor.allocate(untimed.shape())) {
                workspace.upload(0, x);
                workspace.execute();
                workspace.download(0, untimed);
                int[] reports = new int[plan.nodes().size()];
                long[] nanos = new long[reports.length];
                workspace.upload(0, x);
                assertTrue(workspace.executeTimed((node, time) -> {
                    reports[node]++;
                    nanos[node] += time;
                }), "the onednn workspace should time its nodes");
                workspace.download(0, timed);
                for (int n = 0; n < reports.length; n++) {
                    assertEquals(1, reports[n], "reports of node " + n);
                    String op = plan.nodes().get(n).node().op().type();
                    // Reshapes are views of their input: no step, no time.
                    assertTrue(op.equals("Flatten") || op.equals("Reshape") || nanos[n] > 0,
                            "time of node " + n + " (" + op + ")");
                }
                assertArrayEquals(untimed.toFloatArray(), timed.toFloatArray());
            }
        }
    }

    /** Prints what a fresh JVM's engine says about onednn; run in a child process so the library search starts anew. */
    public static final class Probe {
        public static void main(String[] args) {
            Engine engine = Engine.create();
            Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals(OneDnnBackend.ID))
                    .findFirst().orElseThrow();
            System.out.println(info.available() + "|" + engine.autoChoice() + "|" + info.reason());
        }
    }

    private static String probe(String... jvmOptions) throws IOException, InterruptedException {
        return ChildJvm.lastLine(Probe.class, environment -> { }, jvmOptions);
    }

    @Test
    void aMissingLibraryLeavesTheBackendUnavailableWithTheReasonAndTheEngineUsable() throws Exception {
        String last = probe("--enable-native-access=ALL-UNNAMED", "-Dkiln.onednn.library=/nonexistent/libdnnl.so.3");
        assertTrue(last.startsWith("false|reference|"), last);
        assertTrue(last.contains("kiln.onednn.library=/nonexistent/libdnnl.so.3 (set, but no such file"), last);
    }

    @Test
    void aFileThatIsNotALibraryIsReportedNotLoaded() throws Exception {
        java.nio.file.Path bogus = java.nio.file.Files.createTempFile("libdnnl", ".so.3");
        try {
            java.nio.file.Files.writeString(bogus, "not an ELF file");
            String last = probe("--enable-native-access=ALL-UNNAMED", "-Dkiln.onednn.library=" + bogus);
            assertTrue(last.startsWith("false|reference|oneDNN at " + bogus + " could not be used"), last);
        } finally {
            java.nio.file.Files.delete(bogus);
        }
    }

    @Test
    void withoutNativeAccessItSaysHowToEnableIt() throws Exception {
        String last = probe();
        assertTrue(last.startsWith("false|reference|"), last);
        assertTrue(last.contains("--enable-native-access=ALL-UNNAMED"), last);
    }
}
