package dev.kiln.graph;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.ShapeArithmetic;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Propagates concrete shapes from the graph inputs through every node. */
public final class ShapeInference {
    private ShapeInference() {
    }

    /**
     * Shapes of every value (inputs, initializers, node outputs) for these input shapes.
     *
     * @throws GraphValidationException naming the node whose inputs do not fit its op, or the
     *                                  input whose shape does not match its declaration
     */
    public static Map<String, Shape> infer(Graph graph, Map<String, Shape> inputShapes) {
        Map<String, Shape> shapes = new HashMap<>();
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
            shapes.put(e.getKey(), e.getValue().shape());
        }
        for (ValueInfo in : graph.inputs()) {
            Shape given = inputShapes.get(in.name());
            if (given == null) {
                if (graph.isConstant(in.name())) {
                    continue;
                }
                throw new GraphValidationException("no shape given for graph input '" + in.name() + "'");
            }
            if (!given.isConcrete() || !in.shape().accepts(given)) {
                throw new GraphValidationException("graph input '" + in.name() + "' is declared " + in.shape()
                        + ", got " + given);
            }
            try {
                requireCountableBytes(given);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new GraphValidationException("graph input '" + in.name() + "' " + given + ": " + e.getMessage(), e);
            }
            shapes.put(in.name(), given);
        }
        for (Node n : graph.nodes()) {
            List<Shape> in = Graph.shapesOf(n.inputs(), shapes);
            List<Shape> out;
            try {
                out = n.op().inferShapes(in);
                out.forEach(ShapeInference::requireCountableBytes);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new GraphValidationException(n.describe() + " with inputs " + in + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < n.outputs().size() && i < out.size(); i++) {
                if (!n.outputs().get(i).isEmpty()) {
                    shapes.put(n.outputs().get(i), out.get(i));
                }
            }
            // A second output we do not compute (Dropout's mask) keeps the first's shape.
            for (int i = out.size(); i < n.outputs().size(); i++) {
                if (!n.outputs().get(i).isEmpty()) {
                    shapes.put(n.outputs().get(i), out.getFirst());
                }
            }
        }
        return shapes;
    }

    /** A tensor's size in bytes must be a long, so that memory limits and planners can add sizes up. */
    private static void requireCountableBytes(Shape s) {
        ShapeArithmetic.product("the bytes of a tensor of shape " + s, s.elementCount(), Float.BYTES);
    }
}
