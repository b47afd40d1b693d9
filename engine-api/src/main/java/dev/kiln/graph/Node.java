package dev.kiln.graph;

import dev.kiln.graph.ops.Op;

import java.util.List;

/**
 * One operation of a graph: an op with its attributes, and the names of the values it reads and
 * writes. An optional input that is absent is the empty string, as in ONNX.
 */
public record Node(String name, Op op, List<String> inputs, List<String> outputs) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    public boolean hasInput(int i) {
        return !input(i).isEmpty();
    }

    public String output() {
        return outputs.getFirst();
    }

    /** How errors name this node: its name and op type. */
    public String describe() {
        return "node '" + name + "' (" + op.type() + ")";
    }
}
