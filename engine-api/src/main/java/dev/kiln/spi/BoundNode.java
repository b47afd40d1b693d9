package dev.kiln.spi;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Op;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node with everything known at compile time: concrete input and output shapes, and the
 * constant value of each input that is an initializer (null for the others and for absent
 * optional inputs).
 */
public record BoundNode(Node node, List<Shape> inputShapes, List<Shape> outputShapes, List<Tensor> constants) {

    /** Every node of {@code graph}, in its order, bound to the value shapes {@code shapes}. */
    public static List<BoundNode> bindAll(Graph graph, Map<String, Shape> shapes) {
        List<BoundNode> bound = new ArrayList<>();
        for (Node n : graph.nodes()) {
            List<Shape> in = new ArrayList<>();
            List<Tensor> constants = new ArrayList<>();
            for (String v : n.inputs()) {
                in.add(v.isEmpty() ? null : shapes.get(v));
                constants.add(v.isEmpty() ? null : graph.initializers().get(v));
            }
            List<Shape> out = new ArrayList<>();
            for (String v : n.outputs()) {
                out.add(v.isEmpty() ? null : shapes.get(v));
            }
            bound.add(new BoundNode(n, in, out, constants));
        }
        return bound;
    }

    public Op op() {
        return node.op();
    }

    public Shape inputShape(int i) {
        return i < inputShapes.size() ? inputShapes.get(i) : null;
    }

    public Shape outputShape() {
        return outputShapes.getFirst();
    }

    public boolean isConstant(int input) {
        return input < constants.size() && constants.get(input) != null;
    }

    public Tensor constant(int input) {
        return input < constants.size() ? constants.get(input) : null;
    }

    public String name() {
        return node.name();
    }
}
