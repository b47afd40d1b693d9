package dev.kiln.optimize;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small graphs with random weights for the pass tests, and the check every pass must pass: the
 * optimized graph computes the same outputs as the original on the reference backend, within
 * 1e-5 of the largest output.
 */
final class GraphFixtures {
    static final double TOLERANCE = 1e-5;
    private static final Engine REFERENCE = Engine.withBackends(List.of(new ReferenceBackend()));

    private final GraphBuilder builder;
    private final Random random;

    GraphFixtures(String name, long seed) {
        this.builder = new GraphBuilder(name);
        this.random = new Random(seed);
    }

    GraphBuilder builder() {
        return builder;
    }

    /** A constant with values uniform in [low, high). */
    String constant(String name, Shape shape, double low, double high) {
        float[] v = new float[shape.elementCountInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (low + (high - low) * random.nextDouble());
        }
        builder.initializer(name, Tensor.of(shape, v));
        return name;
    }

    String weights(String name, int... dims) {
        return constant(name, Shape.of(dims), -1, 1);
    }

    /** A k x k conv with "same" padding, stride 1, and random weights (and bias, if asked). */
    String conv(String name, String input, int inChannels, int outChannels, int kernel, int groups, boolean bias) {
        String w = weights(name + ".w", outChannels, inChannels / groups, kernel, kernel);
        Conv op = new Conv(Window.square(kernel, 1, kernel / 2), groups);
        return bias ? builder.add(name, op, input, w, weights(name + ".b", outChannels))
                : builder.add(name, op, input, w);
    }

    /** A batch-norm with random statistics; variances in [0.5, 1.5) so that the scale stays moderate. */
    String batchNorm(String name, String input, int channels) {
        String gamma = constant(name + ".gamma", Shape.of(channels), 0.5, 1.5);
        String beta = constant(name + ".beta", Shape.of(channels), -0.5, 0.5);
        String mean = constant(name + ".mean", Shape.of(channels), -0.5, 0.5);
        String var = constant(name + ".var", Shape.of(channels), 0.5, 1.5);
        return builder.add(name, new BatchNormalization(BatchNormalization.DEFAULT_EPSILON), input, gamma, beta, mean,
                var);
    }

    String add(String name, Op op, String... inputs) {
        return builder.add(name, op, inputs);
    }

    Graph build(String... outputs) {
        for (String o : outputs) {
            builder.output(o);
        }
        return builder.build();
    }

    /** Runs one pass alone (repeated until it finds nothing) on a copy of the graph. */
    static OptimizationReport runPass(Pass pass, Graph graph) {
        return new Optimizer(List.of(pass)).optimize(graph);
    }

    /** Runs the graph on the reference backend: one array per graph output, in order. */
    static List<float[]> run(Graph graph, Map<String, Tensor> inputs) {
        try (CompiledModel model = REFERENCE.compile(graph, new CompileOptions(ReferenceBackend.ID, false))) {
            Map<String, Tensor> out = model.run(inputs);
            try {
                return graph.outputs().stream().map(o -> out.get(o).toFloatArray()).toList();
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** Random inputs for every graph input, with symbolic dimensions set to {@code batch}. */
    static Map<String, Tensor> randomInputs(Graph graph, int batch, long seed) {
        Random random = new Random(seed);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (ValueInfo v : graph.inputs()) {
            Shape shape = graph.inputShapesForBatch(batch).get(v.name());
            float[] values = new float[shape.elementCountInt()];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextFloat() * 2 - 1;
            }
            inputs.put(v.name(), Tensor.of(shape, values));
        }
        return inputs;
    }

    /**
     * Both graphs have the same inputs and outputs, and give the same numbers on the same random
     * inputs at this batch size, each output within {@link #TOLERANCE} of its largest magnitude.
     */
    static void assertSameOutputs(Graph original, Graph optimized, int batch) {
        assertEquals(original.outputs(), optimized.outputs(), "graph outputs");
        assertEquals(original.inputs(), optimized.inputs(), "graph inputs");
        Map<String, Tensor> inputs = randomInputs(original, batch, 42);
        try {
            List<float[]> expected = run(original, inputs);
            List<float[]> actual = run(optimized, inputs);
            for (int o = 0; o < expected.size(); o++) {
                assertClose(expected.get(o), actual.get(o), "output '" + original.outputs().get(o) + "'");
            }
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    /** Every element within {@link #TOLERANCE} times the largest magnitude of {@code expected}. */
    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": number of elements");
        double largest = 0;
        for (float e : expected) {
            largest = Math.max(largest, Math.abs(e));
        }
        assertTrue(largest > 0, what + " is all zeros, which would make the comparison meaningless");
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) expected[i] - actual[i]);
            if (!(diff <= worst)) {
                worst = diff;
                worstAt = i;
            }
        }
        assertTrue(worst <= TOLERANCE * largest, what + ": element " + worstAt + " expected " + expected[worstAt]
                + ", got " + actual[worstAt] + "; difference " + worst + " exceeds " + TOLERANCE + " x " + largest);
    }

    /** The node that writes a value, for checking what a rewrite produced. */
    static Node producer(Graph graph, String value) {
        Node n = graph.producer(value);
        if (n == null) {
            throw new AssertionError("no node writes '" + value + "' in " + graph);
        }
        return n;
    }

    static Map<String, Integer> counts(Object... typeAndCount) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < typeAndCount.length; i += 2) {
            m.put((String) typeAndCount[i], (Integer) typeAndCount[i + 1]);
        }
        return m;
    }
}
