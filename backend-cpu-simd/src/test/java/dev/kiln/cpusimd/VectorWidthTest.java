package dev.kiln.cpusimd;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernel tests run three times (see the module's pom): with the machine's widest vectors and
 * with -XX:MaxVectorSize=16 and 32. This checks that each run got the width it asked for, so
 * that a run that silently fell back to the default width is noticed.
 */
class VectorWidthTest {

    @Test
    void lanesFollowMaxVectorSize() {
        String max = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:MaxVectorSize="))
                .map(a -> a.substring("-XX:MaxVectorSize=".length()))
                .findFirst().orElse(null);
        System.out.println("cpu-simd kernels tested with " + BlockedLayout.LANES + " lanes ("
                + BlockedLayout.SPECIES.vectorBitSize() + "-bit vectors, -XX:MaxVectorSize=" + max + ")");
        if (max != null) {
            assertEquals(Integer.parseInt(max) / Float.BYTES, BlockedLayout.LANES);
        }
    }
}
