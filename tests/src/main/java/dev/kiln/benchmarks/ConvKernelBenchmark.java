package dev.kiln.benchmarks;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cpusimd.BlockedLayout;
import dev.kiln.cpusimd.ConvGemmKernel;
import dev.kiln.cpusimd.DepthwiseConvKernel;
import dev.kiln.cpusimd.MachinePeak;
import dev.kiln.cpusimd.SimdKernel;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.runtime.HostThreadPool;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.PreparedWeights;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Time of one call of a cpu-simd convolution kernel ({@link ConvGemmKernel}, {@link DepthwiseConvKernel},
 * and {@link ConvGemmKernel#forGemm} for a fully connected layer) on the layer shapes that dominate
 * ResNet-50, VGG-16, MobileNet and EfficientNet, batch 1, with one host thread and with two. The
 * kernel is built by hand from a {@link BoundNode} with random weights (fixed seed) and a fused
 * ReLU, and called directly on blocked NCHWc buffers, on a thread of the engine's own
 * {@link HostThreadPool}, as a compiled model calls it.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     --sun-misc-unsafe-memory-access=allow -jar tests/target/kiln-benchmarks.jar ConvKernel \
 *     -f 1 -wi 3 -w 1 -i 5 -r 1 [-p layer=conv1x1_256_64_56,dw3x3_32_112] [-p threads=2]
 * </pre>
 *
 * <p>JMH's score is microseconds per call. At the end of each trial the fork also prints one line,
 * from its own timing of the measurement iterations' calls (the same mean as the score, give or
 * take a {@code System.nanoTime} per call), e.g.
 * {@code ConvKernel conv1x1_256_64_56 threads=1: 696.9 us/op, 147.5 GFLOP/s, 84% of the measured 175 GFLOP/s
 * FP32 peak (7178 calls) [1x1 conv as GEMM ...]} (the peak: {@link MachinePeak} on as many threads); for the
 * fully connected layer, which streams its 411 MB of
 * weights once per call at batch 1, the weights' GB/s as well. JMH shows it inside the last
 * measurement iteration's line, before that iteration's score: {@code grep '^ConvKernel'} collects
 * them. The calls go through {@link HostThreadPool#call} for one thread too, so both counts pay the
 * same hand-over to a pool worker (about a microsecond while the worker spins). Another busy process
 * halves the results: check {@code /proc/loadavg} first.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// JMH itself reads fields through sun.misc.Unsafe; allowing it keeps the JDK's warning out of the results.
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class ConvKernelBenchmark {

    /**
     * The layer: {@code conv<k>x<k>[s<stride>]_<in>_<out>_<size>} (ResNet-50 and VGG),
     * {@code first_...} (a network's first layer, 3 input channels), {@code dw<k>x<k>[s<stride>]_<channels>_<size>}
     * (depthwise, MobileNet and EfficientNet), {@code fc_<in>_<out>} (VGG's first fully connected layer).
     */
    @Param({"conv1x1_256_64_56", "conv3x3_64_64_56", "conv3x3_512_512_7", "conv1x1_1024_256_14",
            "first_7x7s2_3_64_224", "first_3x3s2_3_32_224", "dw3x3_32_112", "dw3x3s2_96_112", "dw5x5_240_28",
            "fc_25088_4096"})
    public String layer;

    /** The engine's host threads ({@link HostThreadPool#shared}). */
    @Param({"1", "2"})
    public int threads;

    private HostThreadPool pool;
    private Call kernel;
    private String algorithm;
    private double flops;
    /** Bytes of weights a call reads, for the fully connected layer; 0 for convolutions. */
    private double weightBytes;
    /** {@link MachinePeak} on as many threads as the kernel has. */
    private double peakGflops;

    private boolean measuring;
    private long measuredNanos, measuredCalls;

    /** One prepared kernel call on prepared buffers. */
    private interface Call {
        void run();
    }

    /** A convolution: input [1, in, size, size], weights [out, in / groups, k, k]. */
    record ConvLayer(int in, int out, int size, Window window, boolean depthwise) {
    }

    static ConvLayer convLayer(String name) {
        return switch (name) {
            case "conv1x1_256_64_56" -> new ConvLayer(256, 64, 56, Window.of(1, 1), false);
            case "conv3x3_64_64_56" -> new ConvLayer(64, 64, 56, Window.square(3, 1, 1), false);
            case "conv3x3_512_512_7" -> new ConvLayer(512, 512, 7, Window.square(3, 1, 1), false);
            case "conv1x1_1024_256_14" -> new ConvLayer(1024, 256, 14, Window.of(1, 1), false);
            case "first_7x7s2_3_64_224" -> new ConvLayer(3, 64, 224, Window.square(7, 2, 3), false);
            case "first_3x3s2_3_32_224" -> new ConvLayer(3, 32, 224, Window.square(3, 2, 1), false);
            case "dw3x3_32_112" -> new ConvLayer(32, 32, 112, Window.square(3, 1, 1), true);
            case "dw3x3s2_96_112" -> new ConvLayer(96, 96, 112, Window.square(3, 2, 1), true);
            case "dw5x5_240_28" -> new ConvLayer(240, 240, 28, Window.square(5, 1, 2), true);
            default -> throw new IllegalArgumentException("unknown layer " + name);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        peakGflops = peakGflops(threads); // measured (or read) before the kernel runs, not beside it
        pool = HostThreadPool.shared(threads);
        if (layer.equals("fc_25088_4096")) {
            setUpFullyConnected(25088, 4096);
        } else {
            setUpConv(convLayer(layer));
        }
        forward(); // fail in set-up, not in the measurement
    }

    private void setUpConv(ConvLayer l) {
        Shape xs = Shape.of(1, l.in(), l.size(), l.size());
        int groups = l.depthwise() ? l.in() : 1;
        Window w = l.window();
        Shape ws = Shape.of(l.out(), l.in() / groups, w.kernelH(), w.kernelW());
        Shape bs = Shape.of(l.out());
        Conv op = new Conv(w, groups, List.of(new PostOp.Activate(ActivationFunction.RELU)));
        List<Shape> in = Arrays.asList(xs, ws, bs);
        Shape ys = op.inferShapes(in).getFirst();
        try (Tensor weights = random(ws, 1); Tensor bias = random(bs, 2)) {
            BoundNode node = new BoundNode(new Node("conv", op, List.of("x", "w", "b"), List.of("y")), in,
                    List.of(ys), Arrays.asList(null, weights, bias));
            // Random values in the real channels, zeros in the padding lanes of the last block, as a model has them.
            float[] x = new float[Math.toIntExact(BlockedLayout.floats(xs))];
            BlockedLayout.fromNchw(random(xs.elementCount(), 3), x, 1, l.in(), l.size(), l.size());
            float[][] inputs = {x, null, null};
            float[][] outputs = {new float[Math.toIntExact(BlockedLayout.floats(ys))]};
            SimdKernel k = l.depthwise() ? new DepthwiseConvKernel(node, PreparedWeights.unshared())
                    : new ConvGemmKernel(node, PreparedWeights.unshared());
            float[] scratch = new float[Math.toIntExact(k.scratchFloats())];
            kernel = () -> k.execute(inputs, outputs, scratch, pool);
            algorithm = k.algorithm();
        }
        flops = 2.0 * ys.elementCount() * ws.dim(1) * ws.dim(2) * ws.dim(3);
        weightBytes = 0;
    }

    private void setUpFullyConnected(int k, int n) {
        Gemm op = Gemm.FULLY_CONNECTED;
        Shape bs = Shape.of(n, k), cs = Shape.of(n);
        List<Shape> in = Arrays.asList(Shape.of(1, k), bs, cs);
        try (Tensor weights = random(bs, 1); Tensor bias = random(cs, 2)) {
            BoundNode node = new BoundNode(new Node("fc", op, List.of("a", "b", "c"), List.of("y")), in,
                    op.inferShapes(in), Arrays.asList(null, weights, bias));
            ConvGemmKernel g = ConvGemmKernel.forGemm(node, List.of(new PostOp.Activate(ActivationFunction.RELU)),
                    PreparedWeights.unshared());
            float[][] inputs = {random(k, 3), null, null};
            float[][] outputs = {new float[n]};
            float[] scratch = new float[Math.toIntExact(g.scratchFloats())];
            kernel = () -> g.execute(inputs, outputs, scratch, pool);
            algorithm = g.algorithm();
        }
        flops = 2.0 * k * n;
        weightBytes = 4.0 * k * n;
    }

    @Setup(Level.Iteration)
    public void startIteration(IterationParams params) {
        measuring = params.getType() == IterationType.MEASUREMENT;
    }

    @Benchmark
    public void forward() {
        long start = System.nanoTime();
        pool.call(() -> {
            kernel.run();
            return null;
        });
        if (measuring) {
            measuredNanos += System.nanoTime() - start;
            measuredCalls++;
        }
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.println();
        System.out.println(summary());
    }

    String summary() {
        if (measuredCalls == 0) {
            return "ConvKernel " + layer + " threads=" + threads + ": no measured calls";
        }
        double seconds = measuredNanos / 1e9 / measuredCalls;
        double gflops = flops / seconds / 1e9;
        double peak = peakGflops;
        String bandwidth = weightBytes > 0
                ? String.format(Locale.ROOT, "%.1f GB/s of weights, ", weightBytes / seconds / 1e9) : "";
        return String.format(Locale.ROOT, "ConvKernel %s threads=%d: %.1f us/op, %s%.1f GFLOP/s, %.0f%% of %.0f GFLOP/s"
                        + " FP32 peak (%d calls) [%s]", layer, threads, seconds * 1e6, bandwidth, gflops,
                100 * gflops / peak, peak, measuredCalls, algorithm);
    }

    /**
     * The FP32 limit of this JVM on {@code threads} threads: {@link MachinePeak}, measured by FMA
     * chains of the same species the kernels use (once per fork, the best figure kept in the tuning
     * cache).
     */
    static double peakGflops(int threads) {
        return MachinePeak.of(threads).gflopPerS();
    }

    private static Tensor random(Shape s, long seed) {
        return Tensor.of(s, random(s.elementCount(), seed));
    }

    private static float[] random(long count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }
}
