package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;

import java.util.Objects;
import java.util.function.Function;

/**
 * One network of the model zoo: its name (as the CLI spells it), family, variant, declared
 * input shape and a factory for its graph. Every graph has one input {@code input}
 * [N, 3, H, W] with a symbolic batch, and one output {@code logits} [N, 1000].
 *
 * @param name         the unique name, e.g. {@code resnet50}, {@code mobilenet_v1_0.5_160}
 * @param family       the family, e.g. {@code resnet}
 * @param variant      what distinguishes it within the family, e.g. {@code 50}
 * @param inputShape   [-1, 3, H, W]: the batch is symbolic
 * @param description  one line for people
 * @param graphFactory builds a fresh graph with the given weights
 */
public record ModelSpec(String name, String family, String variant, Shape inputShape, String description,
                        Function<WeightInit, Graph> graphFactory) {

    public ModelSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(variant, "variant");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(graphFactory, "graphFactory");
        if (inputShape.rank() != 4 || inputShape.dim(0) != Shape.DYNAMIC || inputShape.dim(1) != 3) {
            throw new IllegalArgumentException(name + ": input shape must be [?, 3, H, W], got " + inputShape);
        }
    }

    /** A fresh graph owning its weights; the caller closes it. */
    public Graph build(WeightInit init) {
        return graphFactory.apply(Objects.requireNonNull(init, "init"));
    }

    /** A fresh graph with seeded weights; the same name and seed always give the same weights. */
    public Graph build(long seed) {
        return build(WeightInit.seeded(seed));
    }

    /** Input height (and width: every input is square). */
    public int resolution() {
        return inputShape.dim(2);
    }

    /** Learned parameters as frameworks count them; builds the graph with zero weights. */
    public long parameterCount() {
        try (Graph graph = build(WeightInit.ZEROS)) {
            return graph.parameterCount();
        }
    }

    /** Multiply-accumulates of one image at the declared resolution; builds the graph with zero weights. */
    public long macs() {
        try (Graph graph = build(WeightInit.ZEROS)) {
            return graph.macs(1);
        }
    }

    /** Specs are equal when their names are: a name determines the network. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec other && other.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
