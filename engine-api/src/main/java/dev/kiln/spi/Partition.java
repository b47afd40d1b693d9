package dev.kiln.spi;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.util.List;
import java.util.Map;

/**
 * A subgraph given to one backend: its nodes in execution order with concrete shapes, the
 * values that cross in from host memory (inputs) and back out to it (outputs), and the
 * constants its nodes read. Everything else stays inside the backend, in its own buffers.
 */
public record Partition(int index, List<BoundNode> nodes, List<String> inputs, List<String> outputs,
                        Map<String, Shape> shapes, Map<String, Tensor> constants) {

    public Shape shape(String value) {
        return shapes.get(value);
    }
}
