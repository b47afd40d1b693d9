package dev.kiln.cpusimd;

import dev.kiln.spi.PreparedWeights;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Throughput of {@link ConvGemmKernel} on the layer shapes that dominate ResNet-50 and VGG, with
 * one thread and with two. Not a test: run by hand, e.g.
 * {@code java --add-modules jdk.incubator.vector -cp <test classpath> dev.kiln.cpusimd.ConvGemmBenchmark
 * [filter [threads [registers,...]]]}, registers being the vector register files whose tiles to time
 * in turn ({@link RegisterTiles}; the machine's by default), e.g. {@code 32,16}.
 * Prints medians, and the slowest first run, which shows a kernel stuck in C1.
 */
public final class ConvGemmBenchmark {
    private ConvGemmBenchmark() {
    }

    public static void main(String[] args) {
        String filter = args.length > 0 ? args[0] : "";
        // Optional second argument: only this many threads (1 or 2).
        int onlyThreads = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        List<RegisterTiles> tiles = args.length > 2 ? Arrays.stream(args[2].split(","))
                .map(r -> new RegisterTiles(BlockedLayout.SPECIES.vectorBitSize(), Integer.parseInt(r))).toList()
                : List.of(RegisterTiles.MACHINE);
        List<HostThreads> threadChoices = onlyThreads == 1 ? List.of(HostThreads.SEQUENTIAL)
                : onlyThreads == 2 ? List.of(ConvGemmKernelTest.TWO_THREADS)
                : List.of(HostThreads.SEQUENTIAL, ConvGemmKernelTest.TWO_THREADS);
        record Layer(String name, Shape x, int outChannels, Window window, boolean residual) {
            Layer(String name, Shape x, int outChannels, Window window) {
                this(name, x, outChannels, window, false);
            }
        }
        List<Layer> layers = List.of(
                new Layer("1x1 256->64 at 56x56", Shape.of(1, 256, 56, 56), 64, Window.of(1, 1)),
                new Layer("3x3 64->64 at 56x56 pad 1", Shape.of(1, 64, 56, 56), 64, Window.square(3, 1, 1)),
                new Layer("3x3 128->128 at 28x28 pad 1", Shape.of(1, 128, 28, 28), 128, Window.square(3, 1, 1)),
                new Layer("3x3 256->256 at 14x14 pad 1", Shape.of(1, 256, 14, 14), 256, Window.square(3, 1, 1)),
                new Layer("3x3 512->512 at 7x7 pad 1", Shape.of(1, 512, 7, 7), 512, Window.square(3, 1, 1)),
                new Layer("1x1 2048->512 at 7x7", Shape.of(1, 2048, 7, 7), 512, Window.of(1, 1)),
                new Layer("1x1 1024->256 at 14x14", Shape.of(1, 1024, 14, 14), 256, Window.of(1, 1)),
                new Layer("1x1 s2 512->1024 at 28x28", Shape.of(1, 512, 28, 28), 1024, Window.square(1, 2, 0)),
                new Layer("7x7 s2 3->64 at 224 pad 3", Shape.of(1, 3, 224, 224), 64, Window.square(7, 2, 3)),
                // MobileNet v2: small K, few output channels.
                new Layer("1x1 16->96 at 112x112", Shape.of(1, 16, 112, 112), 96, Window.of(1, 1)),
                new Layer("1x1 96->24 at 56x56", Shape.of(1, 96, 56, 56), 24, Window.of(1, 1)),
                new Layer("1x1 24->144 at 56x56", Shape.of(1, 24, 56, 56), 144, Window.of(1, 1)),
                new Layer("1x1 32->16 at 112x112", Shape.of(1, 32, 112, 112), 16, Window.of(1, 1)),
                new Layer("3x3 s2 3->32 at 224 pad 1", Shape.of(1, 3, 224, 224), 32, Window.square(3, 2, 1)),
                // ResNet-50's and MobileNet v2's 1x1 layers that add the block's input (Add then Relu).
                new Layer("1x1 64->256 at 56x56 + residual", Shape.of(1, 64, 56, 56), 256, Window.of(1, 1), true),
                new Layer("1x1 128->512 at 28x28 + residual", Shape.of(1, 128, 28, 28), 512, Window.of(1, 1), true),
                new Layer("1x1 256->1024 at 14x14 + residual", Shape.of(1, 256, 14, 14), 1024, Window.of(1, 1), true),
                new Layer("1x1 512->2048 at 7x7 + residual", Shape.of(1, 512, 7, 7), 2048, Window.of(1, 1), true),
                new Layer("1x1 144->24 at 56x56 + residual", Shape.of(1, 144, 56, 56), 24, Window.of(1, 1), true));
        for (Layer layer : layers) {
            if (!layer.name().contains(filter)) {
                continue;
            }
            Shape ws = Shape.of(layer.outChannels(), layer.x().dim(1), layer.window().kernelH(), layer.window().kernelW());
            Conv op = new Conv(layer.window(), 1, layer.residual()
                    ? List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))
                    : List.of(new PostOp.Activate(ActivationFunction.RELU)));
            List<Shape> in = new ArrayList<>(Arrays.asList(layer.x(), ws, Shape.of(layer.outChannels())));
            Shape ys = layer.window().outputShape(layer.x(), layer.outChannels(), false);
            List<String> names = new ArrayList<>(List.of("x", "w", "b"));
            List<Tensor> constants = new ArrayList<>(Arrays.asList(null, random(ws), random(Shape.of(layer.outChannels()))));
            if (layer.residual()) {
                in.add(ys);
                names.add("r");
                constants.add(null);
            }
            BoundNode node = new BoundNode(new Node("conv", op, names, List.of("y")), in, List.of(ys), constants);
            double flops = 2.0 * ys.elementCount() * ws.dim(1) * ws.dim(2) * ws.dim(3);
            float[][] inputs = layer.residual()
                    ? new float[][] {values(BlockedLayout.floats(layer.x())), null, null, values(BlockedLayout.floats(ys))}
                    : new float[][] {values(BlockedLayout.floats(layer.x())), null, null};
            float[][] outputs = {new float[(int) BlockedLayout.floats(ys)]};
            for (HostThreads threads : threadChoices) {
                List<ConvGemmKernel> kernels = new ArrayList<>();
                List<Runnable> runs = new ArrayList<>();
                for (RegisterTiles tile : tiles) {
                    ConvGemmKernel kernel = new ConvGemmKernel(node, PreparedWeights.unshared(), tile);
                    float[] scratch = new float[(int) kernel.scratchFloats()];
                    kernels.add(kernel);
                    runs.add(() -> kernel.execute(inputs, outputs, scratch, threads));
                }
                double[][] t = timeInTurns(runs, flops, threads.parallelism());
                for (int i = 0; i < kernels.size(); i++) {
                    System.out.printf("%-28s %d thread(s): %7.1f GFLOP/s median (%.3f ms), %.2fx the first's time,"
                                    + " first run %.1f ms  [%s]%n", layer.name(), threads.parallelism(),
                            flops / t[i][0] / 1e9, t[i][0] * 1e3, t[i][2], t[i][1] * 1e3, kernels.get(i).algorithm());
                }
            }
        }
        // Fully connected at batch 1: VGG-16's first (weights from memory), and the logits of
        // ResNet-50 and of MobileNet v2 / EfficientNet-B0 (weights in the last-level cache).
        for (int[] fc : new int[][] {{25088, 4096}, {2048, 1000}, {1280, 1000}}) {
            int k = fc[0], n = fc[1];
            String name = "FC " + k + "->" + n + " M=1";
            if (!name.contains(filter) && !filter.isEmpty()) {
                continue;
            }
            Gemm op = Gemm.FULLY_CONNECTED;
            List<Shape> in = Arrays.asList(Shape.of(1, k), Shape.of(n, k), Shape.of(n));
            BoundNode node = new BoundNode(new Node("fc", op, List.of("a", "b", "c"), List.of("y")), in,
                    op.inferShapes(in), Arrays.asList(null, random(Shape.of(n, k)), random(Shape.of(n))));
            ConvGemmKernel kernel = ConvGemmKernel.forGemm(node, List.of(), PreparedWeights.unshared(), tiles.getFirst());
            float[][] inputs = {values(k), null, null};
            float[][] outputs = {new float[n]};
            float[] scratch = new float[(int) kernel.scratchFloats()];
            for (HostThreads threads : threadChoices) {
                double[] t = time(() -> kernel.execute(inputs, outputs, scratch, threads), 2.0 * k * n);
                System.out.printf("%-28s %d thread(s): %7.1f GB/s of weights median (%.3f ms), %.1f GFLOP/s  [%s]%n",
                        name, threads.parallelism(), 4.0 * k * n / t[0] / 1e9, t[0] * 1e3,
                        2.0 * k * n / t[0] / 1e9, kernel.algorithm());
            }
        }
    }

    /**
     * Per run, in turns of about 0.1 s each so that a busy host's drift hits all alike after a
     * warm-up of each: median seconds per call, the first call's seconds, and the median over
     * rounds of the ratio of its time to the first run's in the same round. Seconds of this
     * thread's CPU time, not of the clock, where the runs compute on this thread alone
     * ({@code HostThreads.SEQUENTIAL}): a host shared with other jobs then takes the core away
     * without counting in the result (its caches still suffer).
     */
    static double[][] timeInTurns(List<Runnable> runs, double flops, int threadsForTurns) {
        double[][] result = new double[runs.size()][3];
        for (int i = 0; i < runs.size(); i++) {
            long start = System.nanoTime();
            runs.get(i).run();
            result[i][1] = (System.nanoTime() - start) / 1e9;
            long warmEnd = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < warmEnd) {
                runs.get(i).run();
            }
        }
        int reps = (int) Math.clamp(3e9 / Math.max(flops, 1), 2, 2000);
        int rounds = 21;
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpuTime = threadsForTurns == 1 && cpu.isCurrentThreadCpuTimeSupported();
        double[][] samples = new double[runs.size()][rounds];
        double[][] ratios = new double[runs.size()][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < runs.size(); i++) {
                long t0 = cpuTime ? cpu.getCurrentThreadCpuTime() : System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    runs.get(i).run();
                }
                long t1 = cpuTime ? cpu.getCurrentThreadCpuTime() : System.nanoTime();
                samples[i][round] = (t1 - t0) / 1e9 / reps;
                ratios[i][round] = samples[i][round] / samples[0][round];
            }
        }
        for (int i = 0; i < runs.size(); i++) {
            Arrays.sort(samples[i]);
            Arrays.sort(ratios[i]);
            result[i][0] = samples[i][rounds / 2];
            result[i][2] = ratios[i][rounds / 2];
        }
        return result;
    }

    /** Median seconds per run over about 2 s after a warm-up, and the first run's seconds. */
    private static double[] time(Runnable run, double flops) {
        long start = System.nanoTime();
        run.run();
        double first = (System.nanoTime() - start) / 1e9;
        int reps = (int) Math.clamp(1e9 / Math.max(flops, 1), 3, 2000);
        long warmEnd = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < warmEnd) {
            run.run();
        }
        List<Double> samples = new ArrayList<>();
        long end = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < end || samples.size() < 5) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                run.run();
            }
            samples.add((System.nanoTime() - t0) / 1e9 / reps);
        }
        samples.sort(null);
        return new double[] {samples.get(samples.size() / 2), first};
    }

    static Tensor random(Shape s) {
        return Tensor.of(s, values(s.elementCount()));
    }

    static float[] values(long count) {
        Random r = new Random(42);
        float[] v = new float[(int) count];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }
}
