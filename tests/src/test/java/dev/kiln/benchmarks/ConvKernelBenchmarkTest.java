package dev.kiln.benchmarks;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel benchmark is in JMH's list, and every layer it names is one it can build. */
class ConvKernelBenchmarkTest {

    @Test
    void theBenchmarkListNamesTheConvKernelBenchmark() throws IOException {
        try (InputStream list = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(list, "no /META-INF/BenchmarkList: the JMH annotation processor did not run");
            String text = new String(list.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains(ConvKernelBenchmark.class.getName()), text);
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

    @Test
    void thePeakIsThisMachinesMeasuredOne() {
        assertEquals(175, ConvKernelBenchmark.peakGflops(1));
        assertEquals(345, ConvKernelBenchmark.peakGflops(2));
    }
}
