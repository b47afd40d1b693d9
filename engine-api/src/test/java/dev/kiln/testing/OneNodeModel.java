package dev.kiln.testing;

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
 * A graph of a single node, compiled on the reference backend and run once: the harness for
 * checking one kernel against numbers worked out independently. Operands are either graph
 * inputs (fed at run time) or constants (initializers), as weights are in real models.
 *
 * <pre>{@code
 * OneNodeModel.of(new Conv(Window.of(1, 1), 1))
 *         .input(Shape.of(1, 1, 2, 2), 1, 2, 3, 4)
 *         .constant(Shape.of(1, 1, 1, 1), 2)
 *         .run();
 * }</pre>
 */
public final class OneNodeModel {
    private static final Engine ENGINE = Engine.withBackends(List.of(new ReferenceBackend()));
    /** Kernel tests run the node as written: the optimizer would rewrite some (a lone batch-norm becomes a conv). */
    private static final CompileOptions AS_WRITTEN = new CompileOptions(ReferenceBackend.ID, false);

    private record Operand(String name, Shape shape, float[] values, boolean constant) {
    }

    private final Op op;
    private final List<Operand> operands = new ArrayList<>();
    private int outputCount = 1;
    private String nodeName = "node";

    private OneNodeModel(Op op) {
        this.op = op;
    }

    public static OneNodeModel of(Op op) {
        return new OneNodeModel(op);
    }

    /** The next operand, fed as a graph input. */
    public OneNodeModel input(Shape shape, float... values) {
        operands.add(new Operand("in" + operands.size(), shape, values.clone(), false));
        return this;
    }

    /** The next operand, stored in the graph as an initializer. */
    public OneNodeModel constant(Shape shape, float... values) {
        operands.add(new Operand("in" + operands.size(), shape, values.clone(), true));
        return this;
    }

    /** The next operand is an optional input left out (an empty name, as in ONNX). */
    public OneNodeModel absent() {
        operands.add(new Operand("", null, null, false));
        return this;
    }

    /** How many outputs the node writes (all become graph outputs); 1 unless set. */
    public OneNodeModel outputs(int count) {
        this.outputCount = count;
        return this;
    }

    /** The node's name, for checking that errors name it; "node" unless set. */
    public OneNodeModel named(String name) {
        this.nodeName = name;
        return this;
    }

    /** One computed output: its shape and values in row-major order. */
    public record Output(Shape shape, float[] values) {
    }

    /** Builds, compiles, runs, and returns the node's first output. */
    public Output run() {
        return runAll().getFirst();
    }

    /** Builds, compiles, runs, and returns every output of the node in order. */
    public List<Output> runAll() {
        try (Graph graph = build();
             CompiledModel model = ENGINE.compile(graph, AS_WRITTEN)) {
            Map<String, Tensor> feeds = new HashMap<>();
            try {
                for (Operand o : operands) {
                    if (o.shape() != null && !o.constant()) {
                        feeds.put(o.name(), Tensor.of(o.shape(), o.values()));
                    }
                }
                Map<String, Tensor> results = model.run(feeds);
                List<Output> outputs = new ArrayList<>();
                for (String name : graph.outputs()) {
                    try (Tensor t = results.get(name)) {
                        outputs.add(new Output(t.shape(), t.toFloatArray()));
                    }
                }
                return outputs;
            } finally {
                feeds.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * The one-node graph itself, for shape and validation checks; the caller closes it. Graph
     * inputs need no values here, so {@code input(shape)} alone declares one.
     */
    public Graph build() {
        GraphBuilder b = new GraphBuilder(op.type() + "-only");
        List<String> nodeInputs = new ArrayList<>();
        for (Operand o : operands) {
            nodeInputs.add(o.name());
            if (o.shape() == null) {
                continue;
            }
            if (o.constant()) {
                b.initializer(o.name(), Tensor.of(o.shape(), o.values()));
            } else {
                b.input(o.name(), o.shape());
            }
        }
        List<String> nodeOutputs = new ArrayList<>();
        for (int i = 0; i < outputCount; i++) {
            nodeOutputs.add("out" + i);
            b.output("out" + i);
        }
        b.node(nodeName, op, nodeInputs, nodeOutputs);
        return b.build();
    }
}
