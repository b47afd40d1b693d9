package dev.kiln.graph.ops;

/**
 * Shape arithmetic that overflows or makes no sense: a window larger than its padded input, pads
 * or dilations near 2^31, dimensions whose product passes the range Kiln computes in. Shape
 * inference turns it into a {@link dev.kiln.graph.GraphValidationException} naming the node.
 */
public final class ShapeArithmeticException extends IllegalArgumentException {
    public ShapeArithmeticException(String message) {
        super(message);
    }
}
