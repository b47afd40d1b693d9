package dev.kiln.graph.ops;

import dev.kiln.Shape;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.OpProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * An op no {@link OpProvider} knows, as the importer keeps it when the model file declares its
 * output shapes: the shapes stand in for a shape rule, and there is no reference kernel, so the
 * node runs only on a backend that claims it (by domain and name) and the compile fails, naming
 * the op and the node, where none does. A symbolic dimension of a declared shape ({@link
 * Shape#DYNAMIC}) is the batch, as everywhere in Kiln: the first dimension of the node's first
 * input.
 *
 * @param domain  the ONNX domain (empty for ai.onnx)
 * @param name    the ONNX op type
 * @param inputs  how many inputs the node has
 * @param outputs the declared output shapes, one per output
 */
public record OpaqueOp(String domain, String name, int inputs, List<Shape> outputs) implements OpProvider {

    public OpaqueOp {
        outputs = List.copyOf(outputs);
        if (outputs.isEmpty()) {
            throw new IllegalArgumentException("an opaque op needs its declared output shapes");
        }
    }

    @Override
    public int minInputs() {
        return inputs;
    }

    @Override
    public int outputCount() {
        return outputs.size();
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in, OpAttributes attributes) {
        List<Shape> shapes = new ArrayList<>();
        for (Shape declared : outputs) {
            if (declared.isConcrete()) {
                shapes.add(declared);
                continue;
            }
            Shape first = in.isEmpty() ? null : in.getFirst();
            Op.require(first != null && first.rank() > 0, "declared output shape " + declared + " has a symbolic"
                    + " dimension, the batch, but the node has no input to take the batch from");
            int[] dims = declared.dims();
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] == Shape.DYNAMIC) {
                    dims[i] = first.dim(0);
                }
            }
            shapes.add(Shape.of(dims));
        }
        return shapes;
    }

    @Override
    public boolean hasReferenceKernel() {
        return false;
    }

    @Override
    public ReferenceKernel referenceKernel(BoundNode node) {
        return null;
    }
}
