package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/**
 * What a node computes: the op kind and its attributes, as an immutable value. Each op knows
 * its arity and its shape rule; kernels live with the backends. Op types are ONNX's names where
 * ONNX has the op.
 *
 * <p>Adding an op to Kiln: a record here with its shape rule, a reference kernel in
 * {@code dev.kiln.reference}, an ONNX mapping, and each backend's kernel. An op from outside
 * Kiln is a {@link ProvidedOp}: its {@link dev.kiln.spi.OpProvider} plugin gives the shape rule,
 * the reference kernel and the ONNX identity, and the sealed list stays Kiln's own ops.
 */
public sealed interface Op permits Conv, BatchNormalization, Activation, Binary, Concat, MaxPool, AveragePool,
        GlobalPool, Gemm, MatMul, Flatten, Reshape, Softmax, Passthrough, Lrn, SqueezeExcitation, Pad,
        Transpose, ProvidedOp {

    /** The op type, e.g. {@code "Conv"}; ONNX's name for ops that exist in ONNX. */
    String type();

    /** Inputs every node of this op must have; one unless the op says otherwise. */
    default int minInputs() {
        return 1;
    }

    /** Inputs a node may have, optional ones included; as many as required unless the op says otherwise. */
    default int maxInputs() {
        return minInputs();
    }

    default int outputCount() {
        return 1;
    }

    /**
     * Output shapes for concrete input shapes. An absent optional input is {@code null}.
     *
     * @throws IllegalArgumentException naming what does not fit; the caller adds the node
     */
    List<Shape> inferShapes(List<Shape> inputs);

    /** Multiply-accumulate operations for these shapes; zero for ops that do no reductions worth counting. */
    default long macs(List<Shape> inputs, List<Shape> outputs) {
        return 0;
    }

    /** Helpers for shape rules. */
    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    static int normalizeAxis(int axis, int rank, String what) {
        int a = axis < 0 ? axis + rank : axis;
        require(a >= 0 && a < rank, what + " axis " + axis + " is out of range for rank " + rank);
        return a;
    }
}
