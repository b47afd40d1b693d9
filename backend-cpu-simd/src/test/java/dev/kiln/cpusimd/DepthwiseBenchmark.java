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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link DepthwiseConvKernel}'s forms for 32 and 16 vector registers ({@link RegisterTiles}) side by side on MobileNet v2's and EfficientNet-B0's depthwise
 * layers, in turns in one JVM, one thread (thread CPU time) or two. Not a test: run by hand like
 * {@link ConvGemmBenchmark}, e.g. under {@code -XX:UseAVX=2}, with an optional filter and thread count.
 */
public final class DepthwiseBenchmark {
    private DepthwiseBenchmark() {
    }

    public static void main(String[] args) {
        String filter = args.length > 0 ? args[0] : "";
        int onlyThreads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        HostThreads threads = onlyThreads == 1 ? HostThreads.SEQUENTIAL : ConvGemmKernelTest.TWO_THREADS;
        int[][] layers = { // channels, size, kernel, stride
                {32, 112, 3, 1}, {96, 112, 3, 2}, {144, 56, 3, 1}, {144, 56, 3, 2}, {192, 28, 3, 1},
                {384, 14, 3, 1}, {576, 14, 3, 1}, {960, 7, 3, 1},
                {144, 56, 5, 2}, {240, 28, 5, 1}, {480, 14, 5, 1}, {672, 14, 5, 1}, {1152, 7, 5, 1}};
        for (int[] layer : layers) {
            String name = layer[2] + "x" + layer[2] + " s" + layer[3] + " " + layer[0] + " at " + layer[1];
            if (!name.contains(filter)) {
                continue;
            }
            int c = layer[0], size = layer[1];
            Window window = Window.square(layer[2], layer[3], layer[2] / 2);
            Conv op = new Conv(window, c, List.of(new PostOp.Activate(ActivationFunction.RELU6)));
            Shape xs = Shape.of(1, c, size, size), ws = Shape.of(c, 1, layer[2], layer[2]);
            List<Shape> in = Arrays.asList(xs, ws, Shape.of(c));
            Shape ys = op.inferShapes(in).getFirst();
            BoundNode node = new BoundNode(new Node("dw", op, List.of("x", "w", "b"), List.of("y")), in,
                    List.of(ys), Arrays.asList(null, ConvGemmBenchmark.random(ws), ConvGemmBenchmark.random(Shape.of(c))));
            double flops = 2.0 * ys.elementCount() * layer[2] * layer[2];
            float[][] inputs = {ConvGemmBenchmark.values(BlockedLayout.floats(xs)), null, null};
            float[][] outputs = {new float[(int) BlockedLayout.floats(ys)]};
            List<SimdKernel> kernels = List.of(new DepthwiseConvKernel(node, PreparedWeights.unshared(), RegisterTiles.THIRTY_TWO),
                    new DepthwiseConvKernel(node, PreparedWeights.unshared(), RegisterTiles.SIXTEEN));
            List<Runnable> runs = new ArrayList<>();
            for (SimdKernel k : kernels) {
                runs.add(() -> k.execute(inputs, outputs, new float[0], threads));
            }
            double[][] t = ConvGemmBenchmark.timeInTurns(runs, flops, threads.parallelism());
            System.out.printf("%-22s %d thread(s): 32-register form %6.1f GFLOP/s (%.1f us), 16-register form %6.1f (%.1f us),"
                            + " time ratio %.2f%n", name, threads.parallelism(), flops / t[0][0] / 1e9, t[0][0] * 1e6,
                    flops / t[1][0] / 1e9, t[1][0] * 1e6, t[1][2]);
        }
    }
}
