package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Op;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shapes of the Kiln values made so far, as far as they are known during import: some
 * conversions need a rank or a dimension (Squeeze, Unsqueeze, a Reshape computed from a shape).
 * Each value's shape is worked out twice, with the symbolic dims of the graph inputs at 1 and at
 * 2; a dimension that differs between the two depends on the batch and is reported as
 * {@link Shape#DYNAMIC}. (The engine gives every symbolic dimension the same value, the batch.)
 */
final class ShapeTracker {
    private static final int SMALL_BATCH = 1;
    private static final int LARGE_BATCH = 2;

    /** A value's shape at both probe batches; {@code large} is null when the op refused that batch. */
    private record Probe(Shape small, Shape large) {
    }

    private final Map<String, Probe> probes = new HashMap<>();
    /** Why a value's shape is unknown, when the node that writes it does not fit its inputs. */
    private final Map<String, String> failures = new HashMap<>();

    /** A graph input with its declared, possibly symbolic, shape. */
    void input(String name, Shape declared) {
        probes.put(name, new Probe(atBatch(declared, SMALL_BATCH), atBatch(declared, LARGE_BATCH)));
    }

    /** A constant: the same shape at every batch. */
    void constant(String name, Shape shape) {
        probes.put(name, new Probe(shape, shape));
    }

    /**
     * Works out a new node's output shapes, when its inputs' shapes are known and fit its op;
     * when they do not fit, remembers why, so that a later node that needs the shape can name
     * the node at fault instead of itself.
     */
    void node(Node node) {
        Shape small;
        try {
            small = infer(node.op(), node.inputs(), true);
        } catch (IllegalArgumentException | ArithmeticException e) {
            String why = node.describe() + " with inputs " + shapesOf(node.inputs()) + ": " + e.getMessage();
            node.outputs().forEach(out -> failures.put(out, why));
            return;
        }
        if (small == null) {
            String inherited = node.inputs().stream().map(failures::get).filter(f -> f != null).findFirst()
                    .orElse(null);
            if (inherited != null) {
                node.outputs().forEach(out -> failures.put(out, inherited));
            }
            return;
        }
        Shape large;
        try {
            large = infer(node.op(), node.inputs(), false);
        } catch (IllegalArgumentException | ArithmeticException e) {
            large = null;
        }
        for (String out : node.outputs()) {
            if (!out.isEmpty()) {
                probes.put(out, new Probe(small, large));
            }
        }
    }

    /** The output shape, or null when an input's shape is unknown; throws when the op refuses the shapes. */
    private Shape infer(Op op, List<String> inputs, boolean small) {
        List<Shape> in = new ArrayList<>();
        for (String name : inputs) {
            if (name.isEmpty()) {
                in.add(null);
                continue;
            }
            Probe p = probes.get(name);
            Shape s = p == null ? null : small ? p.small() : p.large();
            if (s == null) {
                return null;
            }
            in.add(s);
        }
        return op.inferShapes(in).getFirst();
    }

    private List<Shape> shapesOf(List<String> names) {
        List<Shape> shapes = new ArrayList<>();
        for (String n : names) {
            Probe p = n.isEmpty() ? null : probes.get(n);
            shapes.add(p == null ? null : p.small());
        }
        return shapes;
    }

    /**
     * Why the shape of a value is unknown because a node upstream of it does not fit its
     * inputs (the node named), or null when it is unknown for another reason or known.
     */
    String failure(String name) {
        return failures.get(name);
    }

    /** The value's shape with batch-dependent dims as {@link Shape#DYNAMIC}, or null if unknown. */
    Shape shapeOf(String name) {
        Probe p = probes.get(name);
        if (p == null) {
            return null;
        }
        if (p.large() == null || p.large().rank() != p.small().rank()) {
            return p.small();
        }
        int[] dims = p.small().dims();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != p.large().dim(i)) {
                dims[i] = Shape.DYNAMIC;
            }
        }
        return Shape.of(dims);
    }

    private static Shape atBatch(Shape declared, int batch) {
        int[] dims = declared.dims();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == Shape.DYNAMIC) {
                dims[i] = batch;
            }
        }
        return Shape.of(dims);
    }
}
