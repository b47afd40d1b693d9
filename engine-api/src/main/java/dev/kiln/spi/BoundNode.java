package dev.kiln.spi;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Op;

import java.util.List;

/**
 * A node with everything known at compile time: concrete input and output shapes, and the
 * constant value of each input that is an initializer (null for the others and for absent
 * optional inputs).
 */
public record BoundNode(Node node, List<Shape> inputShapes, List<Shape> outputShapes, List<Tensor> constants) {

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
