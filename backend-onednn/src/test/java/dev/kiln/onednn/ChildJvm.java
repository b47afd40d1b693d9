package dev.kiln.onednn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A main class run in a fresh JVM on the test's class path: for what a process decides once,
 * such as where oneDNN is found and how its OpenMP runtime waits.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /** The last line {@code main} printed, after it exited with status 0 within a minute. */
    static String lastLine(Class<?> main, Consumer<Map<String, String>> environment, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        // The test JVM's selection policy (rank, pinned by the build), so that a child compiling with auto does not measure.
        command.add("-Dkiln.select=" + System.getProperty("kiln.select", "rank"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        // To a file, not a pipe: reading a pipe to its end would wait for a hung child past the guard.
        Path log = Files.createTempFile("kiln-child", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        environment.accept(builder.environment());
        Process p = builder.start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS); // a hang guard: the probes take a second or two
        if (!ended) {
            p.destroyForcibly().waitFor();
        }
        String out = Files.readString(log).trim();
        Files.delete(log);
        assertTrue(ended, "child JVM did not finish within 60 s:\n" + out);
        assertEquals(0, p.exitValue(), out);
        return out.lines().reduce((x, y) -> y).orElse("");
    }
}
