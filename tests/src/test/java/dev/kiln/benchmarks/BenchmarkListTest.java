package dev.kiln.benchmarks;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JMH annotation processor ran: without its generated list the benchmark jar builds and then
 * fails at start ("Unable to find the resource: /META-INF/BenchmarkList").
 */
class BenchmarkListTest {

    @Test
    void theBenchmarkListNamesTheModelLatencyBenchmark() throws IOException {
        try (InputStream list = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(list, "no /META-INF/BenchmarkList: the JMH annotation processor did not run");
            String text = new String(list.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains(ModelLatencyBenchmark.class.getName()), text);
        }
    }
}
