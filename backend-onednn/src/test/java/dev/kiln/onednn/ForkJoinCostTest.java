package dev.kiln.onednn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fork and join a shared step costs, and the size of work from which sharing it pays. */
class ForkJoinCostTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();

    @Test
    void sharingPaysFromTheWorkWhoseSavedShareExceedsTheCost() {
        // two threads: t / 2 + c < t from t = 2c; four: 3t / 4 > c from t = 4c / 3
        assertEquals(480, ForkJoinCost.sharedFromMicros(240, 2, 30));
        assertEquals(320, ForkJoinCost.sharedFromMicros(240, 4, 30));
        assertEquals(30, ForkJoinCost.sharedFromMicros(2.5, 2, 30), "never below the floor");
        assertEquals(30, ForkJoinCost.sharedFromMicros(1000, 1, 30), "one thread shares nothing");
    }

    /** Measured on the oneDNN thread of two threads, as the engine's compilations do. */
    @Test
    void theMeasuredCostIsAFiniteTime() {
        double micros = OneDnnThread.forCount(2).call(() -> ForkJoinCost.measure(RUNTIME.dnnl, RUNTIME.engine, 2));
        assertTrue(micros >= 0 && micros < 1_000_000, micros + " us");
    }

    @Test
    void theFixedCostMustBeANumberOfMicroseconds() {
        String before = System.getProperty(ForkJoinCost.PROPERTY);
        try {
            System.setProperty(ForkJoinCost.PROPERTY, "12.5");
            assertEquals(12.5, ForkJoinCost.micros(RUNTIME.dnnl, RUNTIME.engine, 2));
            System.setProperty(ForkJoinCost.PROPERTY, "soon");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ForkJoinCost.micros(RUNTIME.dnnl, RUNTIME.engine, 2));
            assertTrue(e.getMessage().contains(ForkJoinCost.PROPERTY), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(ForkJoinCost.PROPERTY);
            } else {
                System.setProperty(ForkJoinCost.PROPERTY, before);
            }
        }
    }
}
