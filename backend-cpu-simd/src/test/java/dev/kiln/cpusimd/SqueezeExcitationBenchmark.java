package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.PreparedWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * {@link SqueezeExcitationKernel} on EfficientNet-B0's sixteen squeeze-excitations, one thread (thread
 * CPU time) or two. Each layer cycles through several copies of its weights, as a run of the
 * network meets them out of cache; it gates its input in place, as the runtime runs it. Not a test: run by hand like {@link ConvGemmBenchmark}, e.g.
 * under {@code -XX:UseAVX=2}, with an optional filter and thread count; to compare a change, add
 * the old kernel as a second factory and read the time ratio.
 */
public final class SqueezeExcitationBenchmark {
    private static final int WEIGHT_COPIES = 6;

    private SqueezeExcitationBenchmark() {
    }

    public static void main(String[] args) {
        String filter = args.length > 0 ? args[0] : "";
        int onlyThreads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        HostThreads threads = onlyThreads == 1 ? HostThreads.SEQUENTIAL : ConvGemmKernelTest.TWO_THREADS;
        List<Function<BoundNode, SimdKernel>> factories = List.of(
                n -> new SqueezeExcitationKernel(n, PreparedWeights.unshared()));
        int[][] layers = { // channels, reduced, size, how many in EfficientNet-B0
                {32, 8, 112, 1}, {96, 4, 56, 1}, {144, 6, 56, 1}, {144, 6, 28, 1}, {240, 10, 28, 1},
                {240, 10, 14, 1}, {480, 20, 14, 3}, {672, 28, 14, 2}, {672, 28, 7, 1}, {1152, 48, 7, 4}};
        double[] network = new double[factories.size()];
        for (int[] layer : layers) {
            String name = layer[0] + "->" + layer[1] + " at " + layer[2];
            if (!name.contains(filter)) {
                continue;
            }
            int c = layer[0], r = layer[1], size = layer[2];
            SqueezeExcitation op = new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID);
            Shape xs = Shape.of(1, c, size, size);
            List<Shape> in = List.of(xs, Shape.of(r, c, 1, 1), Shape.of(c, r, 1, 1), Shape.of(r), Shape.of(c));
            float[][] inputs = {ConvGemmBenchmark.values(BlockedLayout.floats(xs))};
            float[][] outputs = inputs; // in place, as the runtime runs it
            List<Runnable> runs = new ArrayList<>();
            for (Function<BoundNode, SimdKernel> factory : factories) {
                List<SimdKernel> copies = new ArrayList<>();
                for (int copy = 0; copy < WEIGHT_COPIES; copy++) {
                    BoundNode node = new BoundNode(new Node("se" + copy, op, List.of("x", "w1", "w2", "b1", "b2"),
                            List.of("y")), in, List.of(xs), Arrays.asList(null, ConvGemmBenchmark.random(in.get(1)),
                            ConvGemmBenchmark.random(in.get(2)), ConvGemmBenchmark.random(in.get(3)),
                            ConvGemmBenchmark.random(in.get(4))));
                    copies.add(factory.apply(node));
                }
                float[] scratch = new float[(int) copies.getFirst().scratchFloats()];
                int[] next = {0};
                runs.add(() -> {
                    copies.get(next[0]).execute(inputs, outputs, scratch, threads);
                    next[0] = (next[0] + 1) % WEIGHT_COPIES;
                });
            }
            double flops = 2.0 * c * size * size + 4.0 * c * r;
            double[][] t = ConvGemmBenchmark.timeInTurns(runs, flops, threads.parallelism());
            StringBuilder line = new StringBuilder(String.format("%-16s %d thread(s):", name, threads.parallelism()));
            for (int i = 0; i < runs.size(); i++) {
                network[i] += layer[3] * t[i][0];
                line.append(String.format(" [%d] %.1f us, %.2fx the first's time;", i, t[i][0] * 1e6, t[i][2]));
            }
            System.out.println(line);
        }
        System.out.println("EfficientNet-B0's squeeze-excitations (sum of medians x count): "
                + Arrays.toString(Arrays.stream(network).map(s -> Math.round(s * 1e7) / 10.0).toArray()) + " us");
    }
}
