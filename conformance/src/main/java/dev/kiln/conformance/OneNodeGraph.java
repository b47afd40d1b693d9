package dev.kiln.conformance;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Op;

/**
 * Builds the one-node graphs of {@link OpCases}: graph inputs, seeded constant inputs, then the
 * node, whose output {@code y} is the graph's output.
 */
final class OneNodeGraph {
    private final GraphBuilder builder;
    private final long seed;

    OneNodeGraph(String name) {
        this.builder = new GraphBuilder(name);
        this.seed = name.hashCode();
    }

    /** A graph input; {@link Shape#DYNAMIC} marks the batch dimension. */
    String input(String name, int... dims) {
        builder.input(name, Shape.of(dims));
        return name;
    }

    /** A constant with seeded values uniform in [min, max). */
    String constant(String name, float min, float max, int... dims) {
        builder.initializer(name, RandomTensors.uniform(Shape.of(dims), seed, name, min, max));
        return name;
    }

    /** A constant with values in [-1, 1). */
    String constant(String name, int... dims) {
        return constant(name, -1, 1, dims);
    }

    /** Adds the node reading these values (an empty name is an absent optional input) and builds the graph. */
    Graph node(Op op, String... inputs) {
        builder.add("y", op, inputs);
        builder.output("y");
        return builder.build();
    }
}
