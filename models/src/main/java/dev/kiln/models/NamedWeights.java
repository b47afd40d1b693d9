package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.util.Map;

/** Takes a builder's weight from a {@link WeightInit#fromTensors} map, checking name and shape. */
final class NamedWeights {

    private NamedWeights() {
    }

    /** A copy of the tensor named {@code name}, which must have exactly {@code shape}. */
    static Tensor copy(Map<String, Tensor> tensors, String name, Shape shape) {
        Tensor given = tensors.get(name);
        if (given == null) {
            throw new IllegalArgumentException("no weight named '" + name + "' " + shape + " among the "
                    + tensors.size() + " given tensors");
        }
        if (!given.shape().equals(shape)) {
            throw new IllegalArgumentException("weight '" + name + "' has shape " + given.shape()
                    + ", the model needs " + shape);
        }
        if (given.isClosed()) {
            throw new IllegalArgumentException("weight '" + name + "' " + shape + " is a closed tensor");
        }
        return given.copy();
    }
}
