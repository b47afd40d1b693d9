package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.KernelRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A convolution whose output only a depthwise convolution reads runs with it as one step
 * ({@link ExpansionDepthwiseKernel}); the results are the reference backend's for strides,
 * filter sizes, asymmetric padding, dilation, odd widths, channel counts that leave one block
 * unpaired, SiLU after the tile, batches, and thread counts that cut planes into several bands.
 * Where the value has another reader or leaves the partition, the two run apart.
 */
class ExpansionDepthwiseTest {
    private static final String FUSED = "one step";

    static Tensor random(SplittableRandom random, int... dims) {
        float[] v = new float[java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    /** Runs on cpu-simd with {@code threads} threads against the reference; returns each node's algorithm. */
    private static Map<String, String> runAndCompare(Graph g, int threads, int... inputDims) {
        Engine engine = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()),
                KernelRegistry.discover(), EngineOptions.defaults().withThreads(threads));
        try (Tensor x = random(new SplittableRandom(11), inputDims);
             CompiledModel simd = engine.compile(g, new CompileOptions(CpuSimdBackend.ID, false));
             CompiledModel reference = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
            for (int run = 0; run < 2; run++) { // the second run reuses buffers the first one wrote
                try (Tensor expected = reference.run(x); Tensor actual = simd.run(x)) {
                    assertClose(expected.toFloatArray(), actual.toFloatArray());
                }
            }
            return simd.placements().stream().collect(Collectors.toMap(PlanReport.Placement::node, PlanReport.Placement::algorithm));
        }
    }

    /** Within 1e-5 of the largest |expected|, with no absolute allowance on top that small outputs would hide in. */
    static void assertClose(float[] expected, float[] actual) {
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

    /** x -> 1x1 conv to {@code expanded} channels -> depthwise with {@code window} (both with {@code activation}). */
    static GraphBuilder block(int channels, int height, int width, int expanded, Window window, int kernel,
                                      ActivationFunction activation, SplittableRandom random) {
        GraphBuilder b = new GraphBuilder("inverted-residual");
        b.input("x", Shape.of(Shape.DYNAMIC, channels, height, width));
        b.initializer("we", random(random, expanded, channels, 1, 1));
        b.initializer("be", random(random, expanded));
        b.initializer("wd", random(random, expanded, 1, kernel, kernel));
        b.initializer("bd", random(random, expanded));
        List<PostOp> post = List.of(new PostOp.Activate(activation));
        b.add("expand", new Conv(Window.of(1, 1), 1, post), "x", "we", "be");
        b.add("depthwise", new Conv(window, expanded, post), "expand", "wd", "bd");
        return b;
    }

    private static void assertFused(Map<String, String> algorithms) {
        assertTrue(algorithms.get("expand").contains(FUSED), algorithms.toString());
        assertTrue(algorithms.get("depthwise").contains(FUSED), algorithms.toString());
    }

    @Test
    void stride1And2With3x3And5x5MatchTheReference() {
        SplittableRandom random = new SplittableRandom(1);
        for (int kernel : new int[]{3, 5}) {
            for (int stride : new int[]{1, 2}) {
                for (int[] size : new int[][]{{23, 23}, {17, 29}}) {
                    GraphBuilder b = block(24, size[0], size[1], 40, Window.square(kernel, stride, kernel / 2),
                            kernel, ActivationFunction.RELU6, random);
                    b.output("depthwise");
                    try (Graph g = b.build()) {
                        for (int threads : new int[]{1, 2, 5}) {
                            assertFused(runAndCompare(g, threads, 1, 24, size[0], size[1]));
                        }
                        assertFused(runAndCompare(g, 2, 3, 24, size[0], size[1]));
                    }
                }
            }
        }
    }

    @Test
    void siluAfterTheTileAsymmetricPaddingAndDilation() {
        SplittableRandom random = new SplittableRandom(2);
        Window window = new Window(3, 3, 2, 1, 2, 2, 0, 1, 1, 2, Window.AutoPad.EXPLICIT);
        for (int[] size : new int[][]{{31, 20}, {9, 17}}) {
            GraphBuilder b = block(16, size[0], size[1], 48, window, 3, ActivationFunction.SILU, random);
            b.output("depthwise");
            try (Graph g = b.build()) {
                assertFused(runAndCompare(g, 2, 2, 16, size[0], size[1]));
                assertFused(runAndCompare(g, 4, 1, 16, size[0], size[1]));
            }
        }
    }

    @Test
    void rowsWiderThanTheBufferGoOneOutputRowAtATimeKeepingTheRowsTheyShare() {
        SplittableRandom random = new SplittableRandom(3);
        for (int stride : new int[]{1, 2}) {
            GraphBuilder b = block(16, 9, 1500, 32, Window.square(3, stride, 1), 3, ActivationFunction.RELU, random);
            b.output("depthwise");
            try (Graph g = b.build()) {
                // One thread: one band per plane, so each step keeps rows of the one before.
                Map<String, String> algorithms = runAndCompare(g, 1, 1, 16, 9, 1500);
                assertFused(algorithms);
                assertTrue(algorithms.get("expand").contains("1 depthwise rows at a time"), algorithms.toString());
                runAndCompare(g, 2, 2, 16, 9, 1500);
            }
        }
    }

    @Test
    void anExpansionWithAnotherReaderOrLeavingThePartitionRunsApart() {
        SplittableRandom random = new SplittableRandom(4);
        GraphBuilder b = block(16, 12, 12, 16, Window.square(3, 1, 1), 3, ActivationFunction.RELU6, random);
        b.output(b.add("sum", Binary.ADD, "depthwise", "expand"));
        try (Graph g = b.build()) {
            Map<String, String> algorithms = runAndCompare(g, 2, 1, 16, 12, 12);
            assertFalse(algorithms.get("expand").contains(FUSED), algorithms.toString());
        }
        GraphBuilder c = block(16, 12, 12, 32, Window.square(3, 1, 1), 3, ActivationFunction.RELU6, random);
        c.output("depthwise");
        c.output("expand");
        try (Graph g = c.build()) {
            try (CompiledModel simd = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()))
                    .compile(g, new CompileOptions(CpuSimdBackend.ID, false))) {
                for (PlanReport.Placement p : simd.placements()) {
                    assertFalse(p.algorithm().contains(FUSED), p.toString());
                }
            }
        }
    }
}
