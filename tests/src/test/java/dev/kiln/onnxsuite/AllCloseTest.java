package dev.kiln.onnxsuite;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The suite's comparison is numpy's assert_allclose: it must fail where numpy would. */
class AllCloseTest {

    @Test
    void acceptsDifferencesWithinRelativeAndAbsoluteTolerance() {
        assertDoesNotThrow(() -> OnnxBackendSuiteTest.compare("y", new float[] {1000, 0, 1, Float.NaN},
                new float[] {1000.99f, 5e-8f, 1.0009f, Float.NaN}));
    }

    @Test
    void rejectsADifferenceJustBeyondTolerance() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> OnnxBackendSuiteTest.compare("y", new float[] {1, 2, 3}, new float[] {1, 2.0021f, 3}));
        assertTrue(e.getMessage().contains("index 1") && e.getMessage().contains("'y'"), e.getMessage());
        assertThrows(AssertionFailedError.class,
                () -> OnnxBackendSuiteTest.compare("y", new float[] {0}, new float[] {2e-7f}));
    }

    @Test
    void rejectsNaNWhereANumberIsExpected() {
        assertThrows(AssertionFailedError.class,
                () -> OnnxBackendSuiteTest.compare("y", new float[] {1}, new float[] {Float.NaN}));
        assertThrows(AssertionFailedError.class,
                () -> OnnxBackendSuiteTest.compare("y", new float[] {Float.NaN}, new float[] {1}));
    }
}
