package dev.kiln.benchmarks;

import dev.kiln.cpusimd.MachinePeak;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel benchmark (and the machine peak's) is in JMH's list, every layer it names is one it can
 * build, and its share of the peak is of the measured one.
 */
class ConvKernelBenchmarkTest {

    @Test
    void theBenchmarkListNamesTheConvKernelBenchmark() throws IOException {
        try (InputStream list = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(list, "no /META-INF/BenchmarkList: the JMH annotation processor did not run");
            String text = new String(list.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains(ConvKernelBenchmark.class.getName()), text);
            assertTrue(text.contains(MachinePeakBenchmark.class.getName()), text);
        }
    }

    @Test
    void everyLayerParameterIsKnown() throws NoSuchFieldException {
        String[] layers = ConvKernelBenchmark.class.getField("layer").getAnnotation(Param.class).value();
        assertEquals(10, layers.length);
        for (String layer : layers) {
            if (!layer.startsWith("fc_")) {
                assertDoesNotThrow(() -> ConvKernelBenchmark.convLayer(layer), layer);
            }
        }
    }

    /** The percentages it prints are of the probe's peak at the kernel's thread count, not of a constant. */
    @Test
    void thePeakIsTheProbesOnAsManyThreads() {
        for (int threads : new int[]{1, 2}) {
            MachinePeak peak = MachinePeak.of(threads);
            assertEquals(threads, peak.threads());
            assertEquals(peak.gflopPerS(), ConvKernelBenchmark.peakGflops(threads));
        }
    }
}
