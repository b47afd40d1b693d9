package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.PlanReport;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A few-channel partition input read only by one dense convolution is written by the upload
 * straight into the convolution's padded compact layout (a network's first layer); every other
 * input goes through NCHWc. Either way the results are the reference backend's.
 */
class PaddedUploadTest {
    private static final Engine ENGINE = Engine.withBackends(List.of(new CpuSimdBackend(), new ReferenceBackend()));
    private static final String ON_UPLOAD = "(input compacted and padded on upload)";
    private static final String COPIED = "(compact padded copy)";

    private static Tensor random(SplittableRandom random, int... dims) {
        float[] v = new float[java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    /** Compiles on cpu-simd, checks against the reference backend, returns each conv's algorithm. */
    private static Map<String, String> runAndCompare(Graph g, int... inputDims) {
        try (Tensor x = random(new SplittableRandom(11), inputDims);
             CompiledModel simd = ENGINE.compile(g, new CompileOptions(CpuSimdBackend.ID, false));
             CompiledModel reference = ENGINE.compile(g, new CompileOptions(ReferenceBackend.ID, false))) {
            for (int run = 0; run < 2; run++) { // the second run reuses buffers the first one wrote
                try (Tensor expected = reference.run(x); Tensor actual = simd.run(x)) {
                    assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), 1e-4f);
                }
            }
            return simd.placements().stream().collect(Collectors.toMap(PlanReport.Placement::node, PlanReport.Placement::algorithm));
        }
    }

    private static GraphBuilder image(int channels, int size, SplittableRandom random) {
        GraphBuilder b = new GraphBuilder("first-layer");
        b.input("x", Shape.of(Shape.DYNAMIC, channels, size, size));
        b.initializer("w", random(random, 8, channels, 3, 3));
        b.initializer("bias", random(random, 8));
        return b;
    }

    @Test
    void aFirstLayerReadsItsImageCompactedAndPaddedOnUpload() {
        SplittableRandom random = new SplittableRandom(1);
        GraphBuilder b = image(3, 13, random);
        b.output(b.add("conv", new Conv(Window.square(3, 2, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU6))), "x", "w", "bias"));
        try (Graph g = b.build()) {
            assertTrue(runAndCompare(g, 2, 3, 13, 13).get("conv").contains(ON_UPLOAD));
            runAndCompare(g, 1, 3, 13, 13);
        }
    }

    @Test
    void anImageReadByTwoNodesIsUploadedAsBlocksAndEachConvCopiesIt() {
        SplittableRandom random = new SplittableRandom(2);
        GraphBuilder b = image(2, 9, random);
        b.initializer("w2", random(random, 8, 2, 1, 1));
        String a = b.add("conv", new Conv(Window.square(3, 1, 1), 1), "x", "w", "bias");
        String c = b.add("pointwise", new Conv(Window.of(1, 1), 1, List.of(new PostOp.AddResidual())), "x", "w2", "",
                a);
        b.output(c);
        try (Graph g = b.build()) {
            Map<String, String> algorithms = runAndCompare(g, 2, 2, 9, 9);
            assertTrue(algorithms.get("conv").contains(COPIED), algorithms.toString());
        }
    }

    @Test
    void anImageWhosePaddedFormOutgrowsItsBufferIsCopied() {
        // 2x2 pixels with 3 on each side: 8x8x3 floats padded, more than the 2x2x16 of NCHWc.
        SplittableRandom random = new SplittableRandom(3);
        GraphBuilder b = new GraphBuilder("tiny");
        b.input("x", Shape.of(1, 3, 2, 2));
        b.initializer("w", random(random, 4, 3, 7, 7));
        b.output(b.add("conv", new Conv(Window.square(7, 2, 3), 1), "x", "w"));
        try (Graph g = b.build()) {
            assertTrue(runAndCompare(g, 1, 3, 2, 2).get("conv").contains(COPIED));
        }
    }
}
