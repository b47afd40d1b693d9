package dev.kiln.cpusimd;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The module's tests run three times (see its pom): with the machine's widest vectors, with
 * -XX:MaxVectorSize=16 (the kernel tests), and with -XX:UseAVX=2 (all of them, as on an AVX2
 * host: 256-bit vectors and AVX2's 16 registers). This checks that each run got what it asked
 * for, reading the JVM's flags as it settled them, so that a run that silently fell back to the
 * default width is noticed.
 */
class VectorWidthTest {

    @Test
    void lanesFollowTheJvmsVectorSize() {
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        int maxVectorSize = Integer.parseInt(hotSpot.getVMOption("MaxVectorSize").getValue());
        String useAvx = isX86() ? hotSpot.getVMOption("UseAVX").getValue() : "(not x86)";
        System.out.println("cpu-simd kernels tested with " + BlockedLayout.LANES + " lanes ("
                + BlockedLayout.SPECIES.vectorBitSize() + "-bit vectors; MaxVectorSize " + maxVectorSize
                + ", UseAVX " + useAvx + ")");
        for (String asked : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (asked.startsWith("-XX:MaxVectorSize=")) {
                assertEquals(asked.substring("-XX:MaxVectorSize=".length()), String.valueOf(maxVectorSize), asked);
            }
            if (asked.startsWith("-XX:UseAVX=") && isX86()) {
                assertEquals(asked.substring("-XX:UseAVX=".length()), useAvx, asked);
            }
        }
        assertEquals(maxVectorSize / Float.BYTES, BlockedLayout.LANES);
    }

    private static boolean isX86() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("amd64") || arch.equals("x86_64");
    }
}
