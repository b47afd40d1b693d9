package dev.kiln.conformance;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Op;
import dev.kiln.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph of a single node, for checking one op: the kit's {@link OpCases} build theirs with
 * seeded constants, and a kernel's own tests with values worked out by hand, run on the
 * reference backend ({@link #run()}) or on any engine ({@link #runAll(Engine, CompileOptions)}).
 * Operands are given in the node's input order: graph inputs (fed at run time, with the values
 * given here), constants (initializers, as weights are in real models) or absent optional inputs.
 * The node is named {@code y}, as is its output (its outputs {@code y0}, {@code y1}, ... when it
 * has several).
 *
 * <pre>{@code
 * OneNodeGraph.Output y = OneNodeGraph.of(new Conv(Window.of(1, 1), 1))
 *         .input(Shape.of(1, 1, 2, 2), 1, 2, 3, 4)
 *         .constant(Shape.of(1, 1, 1, 1), 2)
 *         .run();
 * }</pre>
 */
public final class OneNodeGraph {
    private static final Engine REFERENCE = Engine.withBackends(List.of(new ReferenceBackend()));
    /** Run as written: the optimizer would rewrite some nodes (a lone batch-norm becomes a conv). */
    private static final CompileOptions AS_WRITTEN = new CompileOptions(ReferenceBackend.ID, false);

    /** One operand: {@code values} null for a graph input fed from elsewhere or a seeded constant. */
    private record Operand(String name, Shape shape, float[] values, boolean constant, float min, float max) {
        static final Operand ABSENT = new Operand("", null, null, false, 0, 0);
    }

    private final String name;
    private final Op op;
    private final long seed;
    private final List<Operand> operands = new ArrayList<>();
    private String nodeName = "y";
    private int outputCount = 1;

    private OneNodeGraph(String name, Op op) {
        this.name = name;
        this.op = op;
        this.seed = name.hashCode();
    }

    /** A graph named {@code name}, which also seeds its random constants. */
    public static OneNodeGraph of(String name, Op op) {
        return new OneNodeGraph(name, op);
    }

    /** A graph named after the op. */
    public static OneNodeGraph of(Op op) {
        return new OneNodeGraph(op.type() + "-only", op);
    }

    /** The next operand, a graph input; {@link Shape#DYNAMIC} marks a symbolic batch. No values: the caller feeds them. */
    public OneNodeGraph input(String name, int... dims) {
        return add(new Operand(name, Shape.of(dims), null, false, 0, 0));
    }

    /**
     * The next operand, a graph input that {@link #run()} feeds with {@code values}; none for a
     * shape that has elements only declares it.
     */
    public OneNodeGraph input(String name, Shape shape, float... values) {
        boolean declaredOnly = values.length == 0 && !(shape.isConcrete() && shape.elementCount() == 0);
        return add(new Operand(name, shape, declaredOnly ? null : values.clone(), false, 0, 0));
    }

    /** {@link #input(String, Shape, float...)} named {@code in<position>}. */
    public OneNodeGraph input(Shape shape, float... values) {
        return input("in" + operands.size(), shape, values);
    }

    /** The next operand, a constant with seeded values uniform in [min, max) ({@link RandomTensors}). */
    public OneNodeGraph constant(String name, float min, float max, int... dims) {
        return add(new Operand(name, Shape.of(dims), null, true, min, max));
    }

    /** A seeded constant with values in [-1, 1). */
    public OneNodeGraph constant(String name, int... dims) {
        return constant(name, -1, 1, dims);
    }

    /** The next operand, a constant holding {@code values}. */
    public OneNodeGraph constant(String name, Shape shape, float... values) {
        return add(new Operand(name, shape, values.clone(), true, 0, 0));
    }

    /** {@link #constant(String, Shape, float...)} named {@code in<position>}. */
    public OneNodeGraph constant(Shape shape, float... values) {
        return constant("in" + operands.size(), shape, values);
    }

    /** The next operand is an optional input left out (an empty name, as in ONNX). */
    public OneNodeGraph absent() {
        return add(Operand.ABSENT);
    }

    /** How many outputs the node writes (all become graph outputs); 1 unless set. */
    public OneNodeGraph outputs(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("a node writes at least one output, got " + count);
        }
        this.outputCount = count;
        return this;
    }

    /** The node's name ({@code y} unless set), for checking that errors name it. */
    public OneNodeGraph nodeName(String name) {
        this.nodeName = name;
        return this;
    }

    private OneNodeGraph add(Operand operand) {
        if (!operand.name().isEmpty() && operands.stream().anyMatch(o -> o.name().equals(operand.name()))) {
            throw new IllegalArgumentException("graph '" + name + "' already has an operand named '"
                    + operand.name() + "'");
        }
        operands.add(operand);
        return this;
    }

    /** The names of its outputs, in order. */
    public List<String> outputNames() {
        if (outputCount == 1) {
            return List.of("y");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < outputCount; i++) {
            names.add("y" + i);
        }
        return names;
    }

    /** A new graph of the node and its operands; the caller closes it. Each call builds another. */
    public Graph build() {
        GraphBuilder b = new GraphBuilder(name);
        List<String> inputs = new ArrayList<>();
        for (Operand o : operands) {
            inputs.add(o.name());
            if (o == Operand.ABSENT) {
                continue;
            }
            if (!o.constant()) {
                b.input(o.name(), o.shape());
            } else if (o.values() != null) {
                b.initializer(o.name(), Tensor.of(o.shape(), o.values()));
            } else {
                b.initializer(o.name(), RandomTensors.uniform(o.shape(), seed, o.name(), o.min(), o.max()));
            }
        }
        outputNames().forEach(b::output);
        b.node(nodeName, op, inputs, outputNames());
        return b.build();
    }

    /** One computed output: its shape and its values in row-major order. */
    public record Output(Shape shape, float[] values) {
    }

    /** Compiles on the reference backend as written (no optimizer), runs once, returns the first output. */
    public Output run() {
        return runAll().getFirst();
    }

    /** Compiles on the reference backend as written (no optimizer), runs once, returns every output in order. */
    public List<Output> runAll() {
        return runAll(REFERENCE, AS_WRITTEN);
    }

    /**
     * Compiles with {@code options} on {@code engine}, runs once on the input values given here,
     * and returns every output in order.
     *
     * @throws IllegalStateException when a graph input was declared without values
     */
    public List<Output> runAll(Engine engine, CompileOptions options) {
        Map<String, Tensor> feeds = new HashMap<>();
        try (Graph graph = build(); CompiledModel model = engine.compile(graph, options)) {
            for (Operand o : operands) {
                if (o != Operand.ABSENT && !o.constant()) {
                    if (o.values() == null) {
                        throw new IllegalStateException("graph input '" + o.name() + "' of '" + name
                                + "' has no values to run with: give them to input(name, shape, values)");
                    }
                    feeds.put(o.name(), Tensor.of(o.shape(), o.values()));
                }
            }
            Map<String, Tensor> results = model.run(feeds);
            List<Output> outputs = new ArrayList<>();
            for (String output : graph.outputs()) {
                try (Tensor t = results.get(output)) {
                    outputs.add(new Output(t.shape(), t.toFloatArray()));
                }
            }
            return outputs;
        } finally {
            feeds.values().forEach(Tensor::close);
        }
    }
}
