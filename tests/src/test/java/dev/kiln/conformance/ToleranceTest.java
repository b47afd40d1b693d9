package dev.kiln.conformance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ToleranceTest {
    private static final double EPSILON = 1.1920928955078125e-7; // 2^-23

    @Test
    void relativeToleranceGrowsWithTheSquareRootOfTheReductionLength() {
        assertEquals(16 * EPSILON, Tolerance.forReduction(1).rtol(), 1e-20);
        assertEquals(16 * EPSILON * 30, Tolerance.forReduction(900).rtol(), 1e-18);
        assertEquals(0, Tolerance.forReduction(900).atol());
    }

    @Test
    void networkToleranceGrowsWithTheSquareRootOfTheDepth() {
        assertEquals(Tolerance.forReduction(64).rtol() * 5, Tolerance.forNetwork(64, 25).rtol(), 1e-18);
    }

    @Test
    void boundIsAbsolutePlusRelativeTimesScale() {
        assertEquals(0.5 + 0.25 * 8, new Tolerance(0.5, 0.25).bound(8), 0);
    }

    @Test
    void scaleIsTheLargestReferenceMagnitudeAndAppliesToEveryElement() {
        Tolerance tolerance = new Tolerance(0, 1e-3);
        // Scale 100 gives a bound of 0.1, even for the element whose reference value is 0.
        Tolerance.Comparison within = tolerance.compare(new float[] {-100, 0.09f, 3}, new float[] {-100, 0, 3});
        assertEquals(100, within.scale());
        assertEquals(0.1, within.bound(), 1e-12);
        assertTrue(within.passed(), within::toString);

        Tolerance.Comparison outside = tolerance.compare(new float[] {-100, 0.11f, 3.2f}, new float[] {-100, 0, 3});
        assertFalse(outside.passed());
        assertEquals(2, outside.elementsOutside());
        assertEquals(2, outside.worstIndex());
        assertEquals(0.2, outside.maxAbsError(), 1e-6);
        assertEquals(0.002, outside.maxRelativeError(), 1e-8);
    }

    @Test
    void nanMatchesOnlyNanAndInfinityOnlyItself() {
        Tolerance loose = new Tolerance(1, 1);
        assertTrue(loose.compare(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1},
                new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1}).passed());
        assertFalse(loose.compare(new float[] {Float.NaN}, new float[] {0}).passed());
        assertFalse(loose.compare(new float[] {0}, new float[] {Float.NaN}).passed());
        assertFalse(loose.compare(new float[] {Float.NEGATIVE_INFINITY}, new float[] {Float.POSITIVE_INFINITY}).passed());
        assertFalse(loose.compare(new float[] {Float.MAX_VALUE}, new float[] {Float.POSITIVE_INFINITY}).passed());
    }

    @Test
    void allZeroReferenceNeedsAnExactMatchUnlessThereIsAnAbsoluteAllowance() {
        assertFalse(Tolerance.forReduction(1).compare(new float[] {1e-30f}, new float[] {0}).passed());
        assertTrue(new Tolerance(1e-6, 0).compare(new float[] {1e-7f}, new float[] {0}).passed());
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Tolerance(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Tolerance(0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Tolerance.forReduction(0));
        assertThrows(IllegalArgumentException.class, () -> Tolerance.forNetwork(10, 0));
        assertThrows(IllegalArgumentException.class,
                () -> Tolerance.forReduction(1).compare(new float[2], new float[3]));
    }
}
