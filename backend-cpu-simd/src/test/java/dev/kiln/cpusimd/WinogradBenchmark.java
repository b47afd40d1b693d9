package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.PreparedWeights;

import java.util.Arrays;
import java.util.List;

/**
 * {@link WinogradConvKernel} against {@link ConvGemmKernel} on the 3x3 stride-1 layers of
 * ResNet-50, GoogLeNet and VGG, in turns in one JVM, with one thread (thread CPU time) and two.
 * Not a test: run by hand like {@link ConvGemmBenchmark}, e.g. under {@code -XX:UseAVX=2}, with
 * an optional filter and thread count.
 */
public final class WinogradBenchmark {
    private WinogradBenchmark() {
    }

    public static void main(String[] args) {
        String filter = args.length > 0 ? args[0] : "";
        int onlyThreads = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        List<HostThreads> threadChoices = onlyThreads == 1 ? List.of(HostThreads.SEQUENTIAL)
                : onlyThreads == 2 ? List.of(ConvGemmKernelTest.TWO_THREADS)
                : List.of(HostThreads.SEQUENTIAL, ConvGemmKernelTest.TWO_THREADS);
        int[][] layers = { // channels in, channels out, height (= width)
                {64, 64, 56}, {128, 128, 28}, {256, 256, 14}, {512, 512, 7}, {96, 128, 28}, {128, 192, 28},
                {256, 256, 56}, {512, 512, 28}};
        for (int[] layer : layers) {
            String name = "3x3 " + layer[0] + "->" + layer[1] + " at " + layer[2] + "x" + layer[2];
            if (!name.contains(filter)) {
                continue;
            }
            Shape xs = Shape.of(1, layer[0], layer[2], layer[2]);
            Shape ws = Shape.of(layer[1], layer[0], 3, 3);
            Conv op = new Conv(Window.square(3, 1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.RELU)));
            List<Shape> in = Arrays.asList(xs, ws, Shape.of(layer[1]));
            Shape ys = op.inferShapes(in).getFirst();
            BoundNode node = new BoundNode(new Node("conv", op, List.of("x", "w", "b"), List.of("y")), in,
                    List.of(ys), Arrays.asList(null, ConvGemmBenchmark.random(ws),
                    ConvGemmBenchmark.random(Shape.of(layer[1]))));
            double flops = 2.0 * ys.elementCount() * layer[0] * 9;
            float[][] inputs = {ConvGemmBenchmark.values(BlockedLayout.floats(xs)), null, null};
            float[][] outputs = {new float[(int) BlockedLayout.floats(ys)]};
            SimdKernel gemm = new ConvGemmKernel(node, PreparedWeights.unshared());
            SimdKernel winograd = new WinogradConvKernel(node, PreparedWeights.unshared());
            float[] gemmScratch = new float[(int) gemm.scratchFloats()];
            float[] winogradScratch = new float[(int) winograd.scratchFloats()];
            for (HostThreads threads : threadChoices) {
                double[][] t = ConvGemmBenchmark.timeInTurns(List.of(
                        () -> gemm.execute(inputs, outputs, gemmScratch, threads),
                        () -> winograd.execute(inputs, outputs, winogradScratch, threads)), flops,
                        threads.parallelism());
                System.out.printf("%-24s %d thread(s): GEMM %7.1f GFLOP/s (%.3f ms), Winograd %7.1f (%.3f ms),"
                                + " Winograd/GEMM time %.2f%n", name, threads.parallelism(), flops / t[0][0] / 1e9,
                        t[0][0] * 1e3, flops / t[1][0] / 1e9, t[1][0] * 1e3, t[1][2]);
            }
        }
    }
}
