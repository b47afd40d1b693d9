package dev.kiln.conformance.verify;

import dev.kiln.Tensor;
import dev.kiln.graph.Graph;

import java.util.Map;

/**
 * A small graph that still fails on a backend, with the inputs that make it fail: the values the
 * reference backend computed for them in the full model. Owns its weights and inputs; close it.
 *
 * @param backend      the backend it fails on
 * @param graph        the reduced graph
 * @param inputs       its inputs, by name
 * @param description  what was kept, for people
 * @param verdict      the backend's verdict on the reduced graph
 */
public record Reduction(String backend, Graph graph, Map<String, Tensor> inputs, String description,
                        BackendVerdict verdict) implements AutoCloseable {

    @Override
    public void close() {
        inputs.values().forEach(Tensor::close);
        graph.close();
    }
}
