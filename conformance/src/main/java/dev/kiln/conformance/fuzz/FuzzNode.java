package dev.kiln.conformance.fuzz;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One ONNX node of a {@link GraphRecipe}: its op type, its attributes as ONNX reads them, which
 * earlier values it reads, and what its weights need besides the input shapes. Weights are not
 * stored: they are drawn from {@code seed} when the recipe is materialized, with shapes that follow
 * the input shapes of that moment, so a recipe whose input shrinks stays a recipe.
 *
 * @param op         the ONNX op type (Conv, Relu, Shape, ...)
 * @param inputs     the values read, by index: 0 is the graph input, k the output of node k - 1
 * @param width      the output channels (Conv) or features (Gemm, MatMul); 0 where the op has none
 * @param attributes ONNX attributes: {@code Long}, {@code Float}, {@code String}, {@code long[]}, and
 *                   generator hints starting with {@code _} (not written to ONNX: how to make the
 *                   node's constant operands, e.g. {@code _operand=channel})
 * @param seed       where the node's weights come from
 */
public record FuzzNode(String op, List<Integer> inputs, int width, Map<String, Object> attributes, long seed) {

    public FuzzNode {
        inputs = List.copyOf(inputs);
        attributes = java.util.Collections.unmodifiableMap(new TreeMap<>(attributes));
    }

    public long intAttribute(String name, long otherwise) {
        return attributes.get(name) instanceof Long l ? l : otherwise;
    }

    public float floatAttribute(String name, float otherwise) {
        return attributes.get(name) instanceof Float f ? f : otherwise;
    }

    public long[] intsAttribute(String name) {
        return attributes.get(name) instanceof long[] l ? l.clone() : null;
    }

    public String stringAttribute(String name, String otherwise) {
        return attributes.get(name) instanceof String s ? s : otherwise;
    }

    /** The same node reading other values. */
    public FuzzNode withInputs(List<Integer> newInputs) {
        return new FuzzNode(op, newInputs, width, attributes, seed);
    }

    public FuzzNode withWidth(int newWidth) {
        return new FuzzNode(op, inputs, newWidth, attributes, seed);
    }

    public FuzzNode withAttribute(String name, Object value) {
        Map<String, Object> a = new TreeMap<>(attributes);
        a.put(name, value);
        return new FuzzNode(op, inputs, width, a, seed);
    }
}
