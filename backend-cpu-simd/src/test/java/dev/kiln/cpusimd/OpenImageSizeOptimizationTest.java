package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.RunProfile;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ResNet-like graph whose height and width are open ({@code [?, 3, ?, ?]}) is optimized for its
 * fixed axes: its batch-norms fold and its ReLUs and residual adds fuse into the convolutions,
 * and the optimized model gives the unoptimized graph's answers at two image sizes, on the
 * reference backend and on cpu-simd.
 */
class OpenImageSizeOptimizationTest {
    private static final Activation RELU = new Activation(ActivationFunction.RELU);

    @ParameterizedTest
    @ValueSource(strings = {ReferenceBackend.ID, CpuSimdBackend.ID})
    void batchNormsFoldAndReluFuseAndTheAnswersStayAtTwoImageSizes(String backend) {
        Engine engine = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()));
        assertTrue(engine.backend(backend).available(), backend + ": " + engine.backend(backend).reason());
        try (Graph g = resNet(new SplittableRandom(11));
             CompiledModel optimized = engine.compile(g, new CompileOptions(backend, true));
             CompiledModel asWritten = engine.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
            OptimizationReport report = optimized.optimization().orElseThrow();
            Map<String, Integer> after = report.opsAfter();
            assertEquals(5, report.opsBefore().get("BatchNormalization"));
            assertFalse(after.containsKey("BatchNormalization"), "every BN folds: " + after);
            assertFalse(after.containsKey("Relu"), "every ReLU fuses: " + after);
            assertFalse(after.containsKey("Add"), "the residual adds fuse: " + after);
            assertTrue(optimized.optimizerSkipped().orElseThrow().contains("pad-folding"),
                    optimized.optimizerSkipped().toString());
            for (int[] size : new int[][] {{19, 26}, {32, 15}}) {
                RunProfile profile = new RunProfile();
                try (Tensor x = random(new SplittableRandom(size[0] * 100L + size[1]), 2, 3, size[0], size[1]);
                     Tensor expected = asWritten.run(x);
                     Tensor actual = optimized.run(Map.of("x", x), profile).get("fc")) {
                    assertEquals(expected.shape(), actual.shape());
                    assertEquals(List.of(backend), profile.entries().stream().map(RunProfile.Entry::backend).distinct()
                            .toList(), "every node runs on the backend under test");
                    KernelHarness.compare(expected.toFloatArray(), actual.toFloatArray(), 1e-4,
                            backend + " at " + size[0] + "x" + size[1]);
                }
            }
        }
    }

    /**
     * A strided stem (conv, BN, ReLU, max-pool), a basic block (conv, BN, ReLU, conv, BN, Add,
     * ReLU), a downsampling block with a projection shortcut, global pool and a classifier.
     */
    private static Graph resNet(SplittableRandom random) {
        GraphBuilder b = new GraphBuilder("open-size-resnet");
        b.input("x", Shape.of(Shape.DYNAMIC, 3, Shape.DYNAMIC, Shape.DYNAMIC));
        convBn(b, random, "stem", "x", 3, 8, 3, 2);
        b.add("stem_relu", RELU, "stem_bn");
        b.add("pool", new MaxPool(Window.square(3, 2, 1), false), "stem_relu");
        convBn(b, random, "b1_conv1", "pool", 8, 8, 3, 1);
        b.add("b1_relu1", RELU, "b1_conv1_bn");
        convBn(b, random, "b1_conv2", "b1_relu1", 8, 8, 3, 1);
        b.add("b1_add", Binary.ADD, "b1_conv2_bn", "pool");
        b.add("b1_relu2", RELU, "b1_add");
        convBn(b, random, "b2_conv1", "b1_relu2", 8, 16, 3, 2);
        b.add("b2_relu1", RELU, "b2_conv1_bn");
        convBn(b, random, "b2_conv2", "b2_relu1", 16, 16, 3, 1);
        b.initializer("b2_proj.w", random(random, 16, 8, 1, 1));
        b.add("b2_proj", new Conv(Window.square(1, 2, 0), 1), "b1_relu2", "b2_proj.w");
        b.add("b2_add", Binary.ADD, "b2_proj", "b2_conv2_bn");
        b.add("b2_relu2", RELU, "b2_add");
        b.add("gap", GlobalPool.AVERAGE, "b2_relu2");
        b.add("flatten", new Flatten(1), "gap");
        b.initializer("fc.w", random(random, 10, 16));
        b.initializer("fc.b", random(random, 10));
        b.add("fc", Gemm.FULLY_CONNECTED, "flatten", "fc.w", "fc.b");
        b.output("fc");
        return b.build();
    }

    /** A conv without bias (padding kernel / 2) followed by a batch-norm with random statistics, output {@code name_bn}. */
    private static void convBn(GraphBuilder b, SplittableRandom random, String name, String input, int in, int out,
                               int kernel, int stride) {
        b.initializer(name + ".w", random(random, out, in, kernel, kernel));
        b.add(name, new Conv(Window.square(kernel, stride, kernel / 2), 1), input, name + ".w");
        b.initializer(name + ".gamma", uniform(random, 0.5, 1.5, out));
        b.initializer(name + ".beta", uniform(random, -0.5, 0.5, out));
        b.initializer(name + ".mean", uniform(random, -0.5, 0.5, out));
        b.initializer(name + ".var", uniform(random, 0.5, 1.5, out));
        b.add(name + "_bn", new BatchNormalization(BatchNormalization.DEFAULT_EPSILON), name, name + ".gamma",
                name + ".beta", name + ".mean", name + ".var");
    }

    private static Tensor random(SplittableRandom random, int... dims) {
        return uniform(random, -1, 1, dims);
    }

    private static Tensor uniform(SplittableRandom random, double low, double high, int... dims) {
        Shape shape = Shape.of(dims);
        float[] v = new float[shape.elementCountInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(low, high);
        }
        return Tensor.of(shape, v);
    }
}
