package dev.kiln.parity;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RelativeDifferenceTest {

    @Test
    void largestDifferenceOverLargestReferenceMagnitude() {
        try (Tensor actual = Tensor.of(Shape.of(1, 3), 1, 2, -4);
             Tensor expected = Tensor.of(Shape.of(1, 3), 1, 2.5f, -5)) {
            // differences 0, 0.5, 1; largest |expected| 5
            assertEquals(0.2, RelativeDifference.of(actual, expected), 1e-12);
        }
    }

    @Test
    void nanNeverPasses() {
        try (Tensor actual = Tensor.of(Shape.of(2), 1, Float.NaN);
             Tensor expected = Tensor.of(Shape.of(2), 1, 1)) {
            double difference = RelativeDifference.of(actual, expected);
            assertTrue(Double.isNaN(difference));
            assertTrue(!(difference <= RelativeDifference.TOLERANCE));
        }
    }

    @Test
    void shapesMustAgree() {
        try (Tensor actual = Tensor.of(Shape.of(1, 2), 1, 2);
             Tensor expected = Tensor.of(Shape.of(2, 1), 1, 2)) {
            assertThrows(AssertionError.class, () -> RelativeDifference.of(actual, expected));
        }
    }
}
