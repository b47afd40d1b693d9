package dev.kiln.conformance.verify;

import dev.kiln.Shape;
import dev.kiln.conformance.Tolerance;

import java.util.List;
import java.util.Locale;

/**
 * One value computed by a backend compared with the reference backend's.
 *
 * @param node        the node that computes it
 * @param op          the node's op type
 * @param value       the value (the node's output) compared
 * @param inputShapes the node's input shapes (null for an absent optional input)
 * @param shape       the value's shape
 * @param comparison  the element-wise comparison with the reference value
 * @param tolerance   the bound it was held to
 */
public record ValueCheck(String node, String op, String value, List<Shape> inputShapes, Shape shape,
                         Tolerance.Comparison comparison, Tolerance tolerance) {

    public boolean passed() {
        return comparison.passed();
    }

    /** The largest error relative to the value's scale (max |y_ref|). */
    public double relativeError() {
        return comparison.maxRelativeError();
    }

    /** The allowed error relative to the value's scale: the tolerance's rtol when atol is zero. */
    public double relativeTolerance() {
        return comparison.scale() == 0 ? tolerance.atol() : comparison.bound() / comparison.scale();
    }

    /** One line for people: node, op, shapes, error and bound. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%s) %s -> %s: relative error %.3g, tolerance %.3g (%d of %d elements"
                        + " outside; worst at %d: got %s, reference %s)", node, op, inputShapes, shape,
                relativeError(), relativeTolerance(), comparison.elementsOutside(), comparison.count(),
                comparison.worstIndex(), comparison.worstActual(), comparison.worstExpected());
    }
}
