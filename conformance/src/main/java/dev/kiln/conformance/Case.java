package dev.kiln.conformance;

import dev.kiln.CompileOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One conformance case: a graph (rebuilt for every check, so each caller owns and closes its
 * copy), the batch size to run it at, the range of its seeded random inputs, and the tolerance
 * its outputs are held to.
 *
 * @param name      unique and descriptive, e.g. {@code Conv 3x3 s2 p1 [2,8,11,11]->16}
 * @param graph     builds a fresh graph with seeded weights; the caller closes it
 * @param batch     the value of every symbolic (batch) input dimension
 * @param inputMin  the smallest input value
 * @param inputMax  the largest input value (exclusive)
 * @param tolerance how close to the reference backend's outputs a backend must be
 * @param optimize  whether the engine's optimizer runs before the graph reaches the backends: off
 *                  for op cases, so that the op arrives exactly as written; on for whole
 *                  networks, so that backends see the fused graph they meet in use
 */
public record Case(String name, Supplier<Graph> graph, int batch, float inputMin, float inputMax,
                   Tolerance tolerance, boolean optimize) {

    public Case {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(tolerance, "tolerance");
        if (batch < 1) {
            throw new IllegalArgumentException(name + ": batch must be at least 1, got " + batch);
        }
    }

    /** A case whose graph is compiled exactly as written, without the optimizer. */
    public Case(String name, Supplier<Graph> graph, int batch, float inputMin, float inputMax, Tolerance tolerance) {
        this(name, graph, batch, inputMin, inputMax, tolerance, false);
    }

    /** How the engine compiles this case for a backend. */
    public CompileOptions compileOptions(String backend) {
        return new CompileOptions(backend, optimize);
    }

    /** A fresh graph; the caller closes it. */
    public Graph buildGraph() {
        return graph.get();
    }

    /**
     * Random inputs for a graph built by this case, by input name, seeded by the case's name and
     * each input's name: the same case always gets the same data. The caller closes them.
     */
    public Map<String, Tensor> inputs(Graph built) {
        Map<String, Shape> shapes = built.inputShapesForBatch(batch);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (ValueInfo input : built.inputs()) {
            inputs.put(input.name(), RandomTensors.uniform(shapes.get(input.name()), name.hashCode(), input.name(),
                    inputMin, inputMax));
        }
        return inputs;
    }

    @Override
    public String toString() {
        return name;
    }
}
