package dev.kiln.cpusimd;

import dev.kiln.Engine;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuSimdBackendTest {

    @Test
    void isFoundByServiceLoader() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof CpuSimdBackend)
                .toList();
        assertEquals(1, found.size());
        assertEquals("cpu-simd", found.getFirst().id());
        assertEquals(200, found.getFirst().rank());
    }

    @Test
    void isAvailableAndAutoChoosesItWhenTheVectorModuleIsReadable() {
        Availability a = new CpuSimdBackend().availability();
        assertTrue(a.available(), a.reason());
        assertTrue(BlockedLayout.LANES >= 4, "lanes " + BlockedLayout.LANES);
        Engine engine = Engine.create();
        assertTrue(List.of("cpu-simd", "onednn").contains(engine.autoChoice()), engine.autoChoice());
    }

    /** Main of a child JVM started without the incubator module: prints the backend's availability. */
    public static final class Probe {
        public static void main(String[] args) {
            Availability a = new CpuSimdBackend().availability();
            System.out.println(a.available() + "|" + a.reason());
        }
    }

    @Test
    void withoutTheVectorModuleItIsUnavailableAndSaysHowToEnableIt() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Probe.class.getName())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), out);
        String last = out.lines().reduce((x, y) -> y).orElse("");
        assertTrue(last.startsWith("false|"), out);
        assertTrue(last.contains("--add-modules jdk.incubator.vector"), out);
    }
}
