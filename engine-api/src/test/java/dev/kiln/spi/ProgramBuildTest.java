package dev.kiln.spi;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How a program build reads in {@code explain}, and what it refuses. */
class ProgramBuildTest {

    @Test
    void describesEachOrigin() {
        assertEquals("compiled in 6600 ms", new ProgramBuild(ProgramBuild.Origin.COMPILED, 6600.2, "").describe());
        assertEquals("from the disk cache in 12 ms",
                new ProgramBuild(ProgramBuild.Origin.DISK_CACHE, 12.4, "").describe());
        assertEquals("from the memory cache in 0 ms (earlier it was compiled)",
                new ProgramBuild(ProgramBuild.Origin.MEMORY_CACHE, 0.01, "earlier it was compiled").describe());
    }

    @Test
    void refusesANegativeOrUnknownTime() {
        assertThrows(IllegalArgumentException.class, () -> new ProgramBuild(ProgramBuild.Origin.COMPILED, -1, ""));
        assertThrows(IllegalArgumentException.class,
                () -> new ProgramBuild(ProgramBuild.Origin.COMPILED, Double.NaN, ""));
        assertThrows(NullPointerException.class, () -> new ProgramBuild(ProgramBuild.Origin.COMPILED, 1, null));
    }
}
