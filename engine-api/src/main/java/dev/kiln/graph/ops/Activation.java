package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/** A standalone pointwise activation; its type is the function's ONNX name (Relu, Clip, ...). */
public record Activation(ActivationFunction function) implements Op {

    @Override
    public String type() {
        return function.kind().opType();
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        return List.of(in.getFirst());
    }
}
