package dev.kiln.cpusimd;

import dev.kiln.spi.PreparedWeights;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks {@link ConvGemmKernel} against a plain double-precision convolution written here from
 * the ONNX definition, on one thread and on two, with each register tile ({@link RegisterTiles}:
 * the 12 x 2 of 32 registers and the 4 x 2 of 16) whatever this host's, at the width of each of
 * the module's test runs.
 */
class ConvGemmKernelTest {
    private static final int L = BlockedLayout.LANES;

    static final HostThreads TWO_THREADS = KernelHarness.TWO_THREADS;
    /** Every register tile, each run on every host. */
    static final List<RegisterTiles> TILES = List.of(RegisterTiles.THIRTY_TWO, RegisterTiles.SIXTEEN);

    record ConvCase(String name, int batch, int channels, int height, int width, int outChannels, Window window,
                    int groups, boolean bias, List<PostOp> postOps) {
        ConvCase withBias(boolean b) {
            return new ConvCase(name, batch, channels, height, width, outChannels, window, groups, b, postOps);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static ConvCase conv(String name, int n, int c, int h, int w, int m, Window window) {
        return new ConvCase(name, n, c, h, w, m, window, 1, true, List.of());
    }

    static Stream<ConvCase> convCases() {
        List<ConvCase> cases = new ArrayList<>(List.of(
                conv("1x1 s1 64->64 at 17x17", 1, 64, 17, 17, 64, Window.of(1, 1)),
                conv("1x1 s2 32->48", 1, 32, 15, 16, 48, Window.of(1, 1).withStrides(2, 2)),
                conv("3x3 pad 1 s1 32->32", 1, 32, 14, 14, 32, Window.square(3, 1, 1)),
                conv("3x3 pad 1 s2 16->64", 1, 16, 15, 15, 64, Window.square(3, 2, 1)),
                conv("3x3 odd 7x9 35->17", 1, 35, 7, 9, 17, Window.square(3, 1, 1)),
                conv("1x1 3->20", 1, 3, 7, 9, 20, Window.of(1, 1)),
                conv("7x7 s2 pad 3 first layer 3->24", 1, 3, 30, 30, 24, Window.square(7, 2, 3)),
                conv("5x5 pad 2 8->16", 1, 8, 11, 12, 16, Window.square(5, 1, 2)),
                conv("3x3 dilation 2 pad 2 20->36", 1, 20, 13, 13, 36, Window.square(3, 1, 2).withDilations(2, 2)),
                conv("3x3 dilation 2x3 few channels 5->16", 2, 5, 12, 13, 16,
                        Window.of(3, 3).withDilations(2, 3).withPads(1, 2, 0, 1)),
                conv("1x1 on a 1x1 image 48->24", 2, 48, 1, 1, 24, Window.of(1, 1)),
                // Compact 4-channel input, 6 outputs a row: a tile of 12 spans two rows whose steps
                // (5 x 4 floats, 136 across the row end, 5 x 4) add up to 11 x 16, as if adjacent.
                conv("1x34 on 4 channels, 6 wide: tiles across rows", 1, 4, 3, 39, 32, Window.of(1, 34)),
                conv("3x3 asymmetric pads 0,1,1,2", 1, 17, 9, 10, 33, Window.square(3, 1, 0).withPads(0, 1, 1, 2)),
                conv("3x3 batch 3", 3, 19, 6, 7, 40, Window.square(3, 1, 1)),
                conv("3x3 stride 2x1 no bias", 1, 16, 9, 8, 16, Window.of(3, 3).withStrides(2, 1))
                        .withBias(false),
                conv("3x3 512->512 at 7x7 (chunked K)", 1, 512, 7, 7, 32, Window.square(3, 1, 1)),
                new ConvCase("3x3 groups 2", 1, 24, 8, 8, 36, Window.square(3, 1, 1), 2, true, List.of()),
                new ConvCase("1x1 groups 4", 2, 64, 5, 5, 40, Window.of(1, 1), 4, true, List.of()),
                new ConvCase("residual add then relu", 2, 16, 9, 9, 20, Window.square(3, 1, 1), 1, true,
                        List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                // One K chunk, epilogue in the micro-kernel: clip, padding lanes, rows not a multiple of 12.
                new ConvCase("1x1 small K 16->40 relu6", 1, 16, 9, 11, 40, Window.of(1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.RELU6))),
                new ConvCase("1x1 residual add, no activation 24->20", 2, 24, 5, 7, 20, Window.of(1, 1), 1, true,
                        List.of(new PostOp.AddResidual())),
                new ConvCase("relu6 then residual add then relu 8->17", 1, 8, 5, 5, 17, Window.square(3, 1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.RELU6), new PostOp.AddResidual(),
                                new PostOp.Activate(ActivationFunction.RELU))),
                // Full output blocks at every width, 12 adjacent rows: with 16 registers the 4 x 2 kernel
                // adds the residual itself (three blocks at 16 lanes: a pair and a lone one).
                new ConvCase("1x1 residual add then relu, full blocks 32->48", 2, 32, 7, 9, 48, Window.of(1, 1), 1,
                        true, List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                new ConvCase("1x1 relu6 then residual add then relu, full blocks 16->32", 1, 16, 6, 8, 32,
                        Window.of(1, 1), 1, true, List.of(new PostOp.Activate(ActivationFunction.RELU6),
                        new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                new ConvCase("silu then residual add 16->33", 1, 16, 7, 5, 33, Window.of(1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.SILU), new PostOp.AddResidual())),
                new ConvCase("residual add then sigmoid 16->20", 1, 16, 6, 7, 20, Window.of(1, 1), 1, true,
                        List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.SIGMOID))),
                // Several K chunks: the prime / accumulate / finish path, with residual and a rest.
                // (channel counts from the chunk size, so that K exceeds it whatever it is tuned to)
                new ConvCase("chunked K residual add then relu 3x3 ->35", 1, ReductionTaps.CHUNK_K / 9 + 8, 5, 6, 35,
                        Window.square(3, 1, 1), 1,
                        true, List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                new ConvCase("chunked K silu 1x1 ->20", 1, ReductionTaps.CHUNK_K + 100, 3, 5, 20, Window.of(1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.SILU))),
                // Several K chunks of whole channel blocks at every width (the one-block-tap kernels).
                new ConvCase("chunked K 1x1 in whole blocks ->40", 1, (ReductionTaps.CHUNK_K / 64 + 2) * 64, 4, 5, 40,
                        Window.of(1, 1), 1, true, List.of(new PostOp.Activate(ActivationFunction.RELU)))));
        for (ActivationFunction f : List.of(ActivationFunction.RELU, ActivationFunction.RELU6, ActivationFunction.SIGMOID,
                ActivationFunction.SILU, ActivationFunction.hardSigmoid(0.2f, 0.5f), ActivationFunction.HARD_SWISH,
                ActivationFunction.leakyRelu(0.1f), ActivationFunction.TANH)) {
            cases.add(new ConvCase("3x3 35->17 then " + f, 1, 35, 6, 7, 17, Window.square(3, 1, 1), 1, true,
                    List.of(new PostOp.Activate(f))));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void matchesDirectConvolution(ConvCase c) {
        Random random = new Random(c.name().hashCode());
        Shape xs = Shape.of(c.batch(), c.channels(), c.height(), c.width());
        Shape ws = Shape.of(c.outChannels(), c.channels() / c.groups(), c.window().kernelH(), c.window().kernelW());
        float[] x = uniform(random, (int) xs.elementCount());
        float[] w = uniform(random, (int) ws.elementCount());
        float[] b = c.bias() ? uniform(random, c.outChannels()) : null;
        Conv op = new Conv(c.window(), c.groups(), c.postOps());
        Shape ys = c.window().outputShape(xs, c.outChannels(), false);
        float[] residual = op.hasResidual() ? uniform(random, (int) ys.elementCount()) : null;
        BoundNode node = bind(op, Arrays.asList(xs, ws, c.bias() ? Shape.of(c.outChannels()) : null,
                        op.hasResidual() ? ys : null),
                Arrays.asList(null, Tensor.of(ws, w), c.bias() ? Tensor.of(Shape.of(c.outChannels()), b) : null, null));

        double[] expected = directConv(c, x, w, b, residual, ys);
        int k = c.channels() / c.groups() * c.window().kernelH() * c.window().kernelW();
        assertTrue(ConvGemmKernel.supports(node));
        for (RegisterTiles tile : TILES) {
            ConvGemmKernel kernel = new ConvGemmKernel(node, PreparedWeights.unshared(), tile);
            assertTrue(kernel.algorithm().contains("GEMM"), kernel.algorithm());
            assertTrue(kernel.algorithm().contains(tile.describe()), kernel.algorithm());
            for (HostThreads threads : List.of(HostThreads.SEQUENTIAL, TWO_THREADS)) {
                float[] y = runConv(kernel, xs, ys, x, residual, threads);
                assertClose(expected, y, k, c.name() + ", " + tile.describe());
            }
        }
    }

    /** Windows {@link WinogradConvKernel} takes: 3x3, stride 1, odd sizes, pads, batches, epilogues. */
    static Stream<ConvCase> winogradCases() {
        return Stream.of(
                conv("3x3 pad 1 16->16 at 8x8", 1, 16, 8, 8, 16, Window.square(3, 1, 1)),
                conv("3x3 pad 1 35->17 at 9x11 batch 2", 2, 35, 9, 11, 17, Window.square(3, 1, 1)),
                conv("3x3 asymmetric pads 0,1,1,2 17->33", 1, 17, 9, 10, 33, Window.square(3, 1, 0).withPads(0, 1, 1, 2)),
                conv("3x3 no padding 13x13 ->48", 1, 24, 13, 13, 48, Window.square(3, 1, 0)),
                conv("3x3 batch 3 no bias", 3, 19, 6, 7, 40, Window.square(3, 1, 1)).withBias(false),
                new ConvCase("3x3 residual add then relu 32->40", 2, 32, 7, 9, 40, Window.square(3, 1, 1), 1, true,
                        List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))),
                new ConvCase("3x3 relu6 20->20", 1, 20, 10, 10, 20, Window.square(3, 1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.RELU6))),
                new ConvCase("3x3 sigmoid after the tile 16->20", 1, 16, 7, 8, 20, Window.square(3, 1, 1), 1, true,
                        List.of(new PostOp.Activate(ActivationFunction.SIGMOID))),
                conv("3x3 256->48 at 14x14", 1, 256, 14, 14, 48, Window.square(3, 1, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("winogradCases")
    void winogradMatchesDirectConvolution(ConvCase c) {
        Random random = new Random(c.name().hashCode());
        Shape xs = Shape.of(c.batch(), c.channels(), c.height(), c.width());
        Shape ws = Shape.of(c.outChannels(), c.channels(), 3, 3);
        float[] x = uniform(random, (int) xs.elementCount());
        float[] w = uniform(random, (int) ws.elementCount());
        float[] b = c.bias() ? uniform(random, c.outChannels()) : null;
        Conv op = new Conv(c.window(), 1, c.postOps());
        Shape ys = c.window().outputShape(xs, c.outChannels(), false);
        float[] residual = op.hasResidual() ? uniform(random, (int) ys.elementCount()) : null;
        BoundNode node = bind(op, Arrays.asList(xs, ws, c.bias() ? Shape.of(c.outChannels()) : null,
                        op.hasResidual() ? ys : null),
                Arrays.asList(null, Tensor.of(ws, w), c.bias() ? Tensor.of(Shape.of(c.outChannels()), b) : null, null));
        assertEquals(null, WinogradConvKernel.unsupportedReason(node));
        double[] expected = directConv(c, x, w, b, residual, ys);
        for (RegisterTiles tile : TILES) {
            WinogradConvKernel kernel = new WinogradConvKernel(node, PreparedWeights.unshared(), tile);
            for (HostThreads threads : List.of(HostThreads.SEQUENTIAL, TWO_THREADS)) {
                assertClose(expected, runConv(kernel, xs, ys, x, residual, threads), c.channels() * 9,
                        c.name() + ", " + tile.describe());
            }
        }
    }

    @Test
    void winogradIsChosenOnlyWhereItWins() {
        Conv op = new Conv(Window.square(3, 1, 1), 1, List.of());
        // Per node in whole networks (see WinogradConvKernel.MIN_CHANNELS): with 32 registers faster
        // on VGG-16's 256 channels at 56x56 and 512 at 28x28, slower on 128 at 28x28 and 256 at
        // 14x14; with 16 (AVX2, a smaller GEMM tile) faster from 128 channels at 14x14 on.
        int[][] shapes = {{64, 56}, {128, 28}, {256, 14}, {512, 7}, {256, 56}, {512, 28}, {96, 28}};
        boolean[] winsWith32 = {false, false, false, false, true, true, false};
        boolean[] winsWith16 = {false, true, true, false, true, true, false};
        for (int i = 0; i < shapes.length; i++) {
            int c = shapes[i][0], size = shapes[i][1];
            Shape xs = Shape.of(1, c, size, size), ws = Shape.of(c, c, 3, 3);
            BoundNode node = bind(op, Arrays.asList(xs, ws, null), Arrays.asList(null, Tensor.allocate(ws), null));
            assertEquals(winsWith32[i], WinogradConvKernel.wins(node, RegisterTiles.THIRTY_TWO),
                    c + " channels at " + size + ", 32 registers");
            assertEquals(winsWith16[i], WinogradConvKernel.wins(node, RegisterTiles.SIXTEEN),
                    c + " channels at " + size + ", 16 registers");
            assertEquals(WinogradConvKernel.wins(node, RegisterTiles.MACHINE), WinogradConvKernel.wins(node),
                    "the machine's register file decides");
        }
    }

    private static float[] runConv(SimdKernel kernel, Shape xs, Shape ys, float[] x, float[] residual,
                                   HostThreads threads) {
        // Buffers longer than the values and full of garbage, as the memory plan may hand out.
        float[] xb = garbage(BlockedLayout.floats(xs) + 7);
        BlockedLayout.fromNchw(x, xb, xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3));
        float[] rb = null;
        if (residual != null) {
            rb = garbage(BlockedLayout.floats(ys));
            BlockedLayout.fromNchw(residual, rb, ys.dim(0), ys.dim(1), ys.dim(2), ys.dim(3));
        }
        float[] yb = garbage(BlockedLayout.floats(ys) + 5);
        float[] scratch = garbage(kernel.scratchFloats() + 3);
        kernel.execute(new float[][] {xb, null, null, rb}, new float[][] {yb}, scratch, threads);
        assertPaddingLanesZero(yb, ys);
        float[] y = new float[(int) ys.elementCount()];
        BlockedLayout.toNchw(yb, y, ys.dim(0), ys.dim(1), ys.dim(2), ys.dim(3));
        return y;
    }

    private static void assertPaddingLanesZero(float[] yb, Shape ys) {
        int blocks = BlockedLayout.blocks(ys.dim(1)), plane = ys.dim(2) * ys.dim(3);
        for (int n = 0; n < ys.dim(0); n++) {
            int base = ((n * blocks + blocks - 1) * plane) * L;
            for (int p = 0; p < plane; p++) {
                for (int lane = ys.dim(1) - (blocks - 1) * L; lane < L; lane++) {
                    if (yb[base + p * L + lane] != 0f) {
                        fail("padding lane " + lane + " of pixel " + p + " of image " + n + " is " + yb[base + p * L + lane]);
                    }
                }
            }
        }
    }

    /** The ONNX definition, element by element, in double precision. */
    private static double[] directConv(ConvCase c, float[] x, float[] w, float[] b, float[] residual, Shape ys) {
        Window win = c.window();
        int oh = ys.dim(2), ow = ys.dim(3), groupIn = c.channels() / c.groups(), groupOut = c.outChannels() / c.groups();
        double[] y = new double[(int) ys.elementCount()];
        for (int n = 0; n < c.batch(); n++) {
            for (int m = 0; m < c.outChannels(); m++) {
                int g = m / groupOut;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double sum = b == null ? 0 : b[m];
                        for (int ci = 0; ci < groupIn; ci++) {
                            for (int kh = 0; kh < win.kernelH(); kh++) {
                                for (int kw = 0; kw < win.kernelW(); kw++) {
                                    int ih = i * win.strideH() + kh * win.dilationH() - win.padTop();
                                    int iw = j * win.strideW() + kw * win.dilationW() - win.padLeft();
                                    if (ih < 0 || ih >= c.height() || iw < 0 || iw >= c.width()) {
                                        continue;
                                    }
                                    int channel = g * groupIn + ci;
                                    sum += (double) x[((n * c.channels() + channel) * c.height() + ih) * c.width() + iw]
                                            * w[((m * groupIn + ci) * win.kernelH() + kh) * win.kernelW() + kw];
                                }
                            }
                        }
                        int at = ((n * c.outChannels() + m) * oh + i) * ow + j;
                        y[at] = epilogue(c.postOps(), sum, residual == null ? 0 : residual[at]);
                    }
                }
            }
        }
        return y;
    }

    private static double epilogue(List<PostOp> postOps, double v, float residual) {
        for (PostOp p : postOps) {
            v = switch (p) {
                case PostOp.Activate a -> a.function().apply((float) v);
                case PostOp.AddResidual r -> v + residual;
            };
        }
        return v;
    }

    @Test
    void fullyConnectedMatchesAPlainProduct() {
        for (int m : new int[] {1, 5, 13, 30}) {
            for (boolean relu : new boolean[] {false, true}) {
                checkGemm(m, 203, 37, relu, true, Shape.of(37));
            }
        }
        checkGemm(5, 64, 48, false, true, null);
        checkGemm(5, 600, 40, true, false, Shape.of(1, 40));
        checkGemm(2, 300, 17, false, true, Shape.of(1));
        checkGemm(13, 40, 17, true, true, Shape.of(17));
    }

    private static void checkGemm(int m, int k, int n, boolean relu, boolean transB, Shape cShape) {
        Random random = new Random(m * 1000 + k + n);
        float[] a = uniform(random, m * k), b = uniform(random, n * k);
        float[] c = cShape == null ? null : uniform(random, (int) cShape.elementCount());
        Gemm op = new Gemm(1f, 1f, false, transB);
        Shape bs = transB ? Shape.of(n, k) : Shape.of(k, n);
        BoundNode node = bind(op, Arrays.asList(Shape.of(m, k), bs, cShape),
                Arrays.asList(null, Tensor.of(bs, b), c == null ? null : Tensor.of(cShape, c)));
        assertTrue(ConvGemmKernel.supportsGemm(node));
        List<PostOp> epilogue = relu ? List.of(new PostOp.Activate(ActivationFunction.RELU)) : List.of();
        double[] expected = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = c == null ? 0 : c[c.length == 1 ? 0 : j];
                for (int p = 0; p < k; p++) {
                    sum += (double) a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
                }
                expected[i * n + j] = relu ? Math.max(0, sum) : sum;
            }
        }
        for (RegisterTiles tile : TILES) {
            ConvGemmKernel kernel = ConvGemmKernel.forGemm(node, epilogue, PreparedWeights.unshared(), tile);
            for (HostThreads threads : List.of(HostThreads.SEQUENTIAL, TWO_THREADS)) {
                float[] y = garbage(m * n + 9);
                float[] sentinel = Arrays.copyOfRange(y, m * n, m * n + 9);
                kernel.execute(new float[][] {a, null, null}, new float[][] {y}, garbage(kernel.scratchFloats()), threads);
                assertClose(expected, Arrays.copyOf(y, m * n), k, "gemm m=" + m + " n=" + n);
                for (int i = 0; i < sentinel.length; i++) {
                    assertEquals(Float.floatToRawIntBits(sentinel[i]), Float.floatToRawIntBits(y[m * n + i]),
                            "wrote past the output");
                }
            }
        }
    }

    @Test
    void refusesManyGroupsAndNonConstantWeights() {
        Shape xs = Shape.of(1, 32, 4, 4), ws = Shape.of(32, 1, 3, 3);
        Conv depthwise = new Conv(Window.square(3, 1, 1), 32);
        BoundNode node = bind(depthwise, Arrays.asList(xs, ws), Arrays.asList(null, Tensor.allocate(ws)));
        assertFalse(ConvGemmKernel.supports(node));
        assertThrows(IllegalArgumentException.class, () -> new ConvGemmKernel(node, PreparedWeights.unshared()));
        BoundNode fed = bind(new Conv(Window.of(1, 1), 1), Arrays.asList(xs, Shape.of(8, 32, 1, 1)),
                Arrays.asList(null, null));
        assertTrue(ConvGemmKernel.unsupportedReason(fed).contains("weights"));
    }

    private static BoundNode bind(Op op, List<Shape> inputs, List<Tensor> constants) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            names.add(inputs.get(i) == null ? "" : "in" + i);
        }
        List<Shape> outputs = op.inferShapes(inputs);
        return new BoundNode(new Node("node", op, names, List.of("y")), inputs, outputs, constants);
    }

    static float[] uniform(Random random, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static float[] garbage(long count) {
        float[] v = new float[(int) count];
        Arrays.fill(v, Float.NaN);
        return v;
    }

    /**
     * Within 1e-5 x sqrt(depth) of the output's own largest |value|: float32 rounding grows with
     * the square root of the reduction's length (see the conformance kit's {@code Tolerance}), and
     * is relative to the size of what is summed, so no floor under the scale (one would let a
     * small output be wrong by the floor's worth).
     */
    private static void assertClose(double[] expected, float[] actual, int depth, String what) {
        double max = 0;
        for (double e : expected) {
            max = Math.max(max, Math.abs(e));
        }
        assertTrue(max > 0, what + ": the expected output is all zeros, which would make the comparison say nothing");
        double tolerance = 1e-5 * Math.sqrt(depth) * max;
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (tolerance " + tolerance + ")");
            }
        }
    }
}
