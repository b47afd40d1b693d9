package dev.kiln.cpusimd;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Op;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.BoundNode;
import dev.kiln.runtime.HostThreadPool;
import dev.kiln.spi.HostThreads;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs one cpu-simd kernel on a one-node graph and checks it against the reference backend:
 * inputs go to the kernel's layouts (NCHWc for rank 4), the kernel runs on one thread, on two,
 * and in place when it offers to, and the output comes back to NCHW for the comparison. Buffers
 * are longer than the values and the output starts as NaN, so a kernel that reads lengths from
 * arrays or leaves an element unwritten fails; padding lanes must come back exactly zero.
 */
final class KernelHarness {
    private static final Engine REFERENCE = Engine.withBackends(List.of(new ReferenceBackend()));
    private static final CompileOptions AS_WRITTEN = new CompileOptions(ReferenceBackend.ID, false);
    /** Floats past the value's end in every buffer. */
    private static final int SLACK = 19;

    /** Two worker threads: the engine's own pool, as a compiled model on a two-core machine uses it. */
    static final HostThreads TWO_THREADS = HostThreadPool.shared(2);

    /** One operand of the node: a runtime input, a constant (initializer), or an absent optional input. */
    record Operand(Shape shape, float[] values, boolean constant) {
        boolean absent() {
            return shape == null;
        }
    }

    static Operand input(Shape shape, float[] values) {
        return new Operand(shape, values, false);
    }

    static Operand constant(Shape shape, float[] values) {
        return new Operand(shape, values, true);
    }

    static Operand absent() {
        return new Operand(null, null, false);
    }

    /** Uniform values in [low, high), from a fixed seed. */
    static float[] uniform(int count, long seed, float low, float high) {
        Random random = new Random(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = low + (high - low) * random.nextFloat();
        }
        return v;
    }

    static float[] uniform(int count, long seed) {
        return uniform(count, seed, -1f, 1f);
    }

    static int count(Shape s) {
        return s.elementCountInt();
    }

    private KernelHarness() {
    }

    /**
     * Checks the kernel against the reference; {@code tolerance} is relative to the largest
     * |output| of the reference (see {@link #compare}).
     */
    static void check(Op op, Function<BoundNode, SimdKernel> factory, double tolerance, Operand... operands) {
        float[] expected = reference(op, operands);
        List<Shape> shapes = Arrays.asList(Arrays.stream(operands).map(Operand::shape).toArray(Shape[]::new));
        Shape outShape = op.inferShapes(shapes).getFirst();
        List<Tensor> constants = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < operands.length; i++) {
            Operand o = operands[i];
            names.add(o.absent() ? "" : "in" + i);
            constants.add(o.constant() ? Tensor.of(o.shape(), o.values()) : null);
        }
        try {
            BoundNode node = new BoundNode(new Node("node", op, names, List.of("out0")), shapes,
                    op.inferShapes(shapes), constants);
            SimdKernel kernel = factory.apply(node);
            assertTrue(kernel.algorithm() != null && !kernel.algorithm().isBlank());
            float[][] inputs = new float[operands.length][];
            for (int i = 0; i < operands.length; i++) {
                inputs[i] = operands[i].absent() ? null : toKernelLayout(operands[i].shape(), operands[i].values());
            }
            float[] scratch = new float[(int) kernel.scratchFloats() + SLACK];
            for (HostThreads threads : List.of(HostThreads.SEQUENTIAL, TWO_THREADS)) {
                float[] out = new float[(int) BlockedLayout.floats(outShape) + SLACK];
                Arrays.fill(out, Float.NaN);
                Arrays.fill(scratch, Float.NaN);
                kernel.execute(copies(inputs), new float[][] {out}, scratch, threads);
                compare(expected, fromKernelLayout(outShape, out), tolerance, kernel + " on " + threads.parallelism());
                assertPaddingZero(outShape, out);
            }
            int inPlace = kernel.inPlaceInput();
            if (inPlace >= 0) {
                Shape inPlaceShape = operands[inPlace].shape();
                assertTrue(BlockedLayout.floats(inPlaceShape) == BlockedLayout.floats(outShape)
                                && (inPlaceShape.rank() == 4) == (outShape.rank() == 4) && !operands[inPlace].constant(),
                        "in-place input " + inPlace + " must be a runtime value stored as the output is");
                float[][] in = copies(inputs);
                kernel.execute(in, new float[][] {in[inPlace]}, scratch, TWO_THREADS);
                compare(expected, fromKernelLayout(outShape, in[inPlace]), tolerance, "in place");
                assertPaddingZero(outShape, in[inPlace]);
            }
        } finally {
            constants.stream().filter(t -> t != null).forEach(Tensor::close);
        }
    }

    private static float[][] copies(float[][] arrays) {
        float[][] c = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            c[i] = arrays[i] == null ? null : arrays[i].clone();
        }
        return c;
    }

    static float[] toKernelLayout(Shape s, float[] values) {
        float[] buffer = new float[(int) BlockedLayout.floats(s) + SLACK];
        Arrays.fill(buffer, 12345f); // past the value: must never be read into a result
        if (s.rank() == 4) {
            BlockedLayout.fromNchw(values, buffer, s.dim(0), s.dim(1), s.dim(2), s.dim(3));
        } else {
            System.arraycopy(values, 0, buffer, 0, values.length);
        }
        return buffer;
    }

    static float[] fromKernelLayout(Shape s, float[] buffer) {
        float[] values = new float[count(s)];
        if (s.rank() == 4) {
            BlockedLayout.toNchw(buffer, values, s.dim(0), s.dim(1), s.dim(2), s.dim(3));
        } else {
            System.arraycopy(buffer, 0, values, 0, values.length);
        }
        return values;
    }

    static void assertPaddingZero(Shape s, float[] buffer) {
        if (s.rank() != 4) {
            return;
        }
        int lanes = BlockedLayout.LANES, blocks = BlockedLayout.blocks(s.dim(1)), pixels = s.dim(2) * s.dim(3);
        for (int n = 0; n < s.dim(0); n++) {
            for (int c = s.dim(1); c < blocks * lanes; c++) {
                for (int p = 0; p < pixels; p++) {
                    float v = buffer[((n * blocks + c / lanes) * pixels + p) * lanes + c % lanes];
                    if (v != 0f) {
                        fail("padding channel " + c + " of image " + n + " at pixel " + p + " is " + v);
                    }
                }
            }
        }
    }

    /**
     * Every element within {@code tolerance} times the output's own scale, the largest |value| of
     * the reference output. No floor at 1: with one, an output whose values are all small (a
     * softmax over 1,000 classes, around 1e-3 and below) was held to an absolute 1e-5, which a
     * kernel 10x wrong on its smaller entries met. A reference that is all zeros has no scale to
     * be relative to; its zeros are exact (a ReLU of negatives, an unused channel), so the kernel
     * must give zeros too.
     */
    static void compare(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double allowed = tolerance * scale;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) expected[i] - actual[i]);
            if (!(error <= allowed)) { // also fails on NaN
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (error "
                        + error + ", allowed " + allowed + " = " + tolerance + " x largest |expected| " + scale + ")");
            }
        }
    }

    /** The reference backend's output for the one-node graph, NCHW. */
    static float[] reference(Op op, Operand... operands) {
        GraphBuilder b = new GraphBuilder(op.type() + "-only");
        List<String> names = new ArrayList<>();
        Map<String, Tensor> feeds = new HashMap<>();
        try {
            for (int i = 0; i < operands.length; i++) {
                Operand o = operands[i];
                if (o.absent()) {
                    names.add("");
                    continue;
                }
                names.add("in" + i);
                if (o.constant()) {
                    b.initializer("in" + i, Tensor.of(o.shape(), o.values()));
                } else {
                    b.input("in" + i, o.shape());
                    feeds.put("in" + i, Tensor.of(o.shape(), o.values()));
                }
            }
            b.node("node", op, names, List.of("out0"));
            b.output("out0");
            try (Graph graph = b.build();
                 CompiledModel model = REFERENCE.compile(graph, AS_WRITTEN)) {
                try (Tensor t = model.run(feeds).get("out0")) {
                    return t.toFloatArray();
                }
            }
        } finally {
            feeds.values().forEach(Tensor::close);
        }
    }
}
