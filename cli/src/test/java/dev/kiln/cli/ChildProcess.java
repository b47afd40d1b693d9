package dev.kiln.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A process run to its end with its standard output and error kept apart: for what one JVM
 * decides once (the libraries it maps, the module graph) and what native code prints.
 */
record ChildProcess(int exit, String out, String err) {

    /** Runs {@code command} with these environment variables added (KILN_BACKEND removed first), at most 120 s. */
    static ChildProcess run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        // Files, not pipes: reading a pipe to its end would wait for a hung child past the guard.
        Path out = Files.createTempFile("kiln-child", ".out");
        Path err = Files.createTempFile("kiln-child", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().remove("KILN_BACKEND");
            builder.environment().putAll(env);
            Process p = builder.start();
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor();
            }
            ChildProcess c = new ChildProcess(ended ? p.exitValue() : -1, Files.readString(out), Files.readString(err));
            assertTrue(ended, "child process did not finish within 120 s\n" + c.describe());
            return c;
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    /** The JVM running this test. */
    static String java() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    String describe() {
        return "exit " + exit + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
    }
}
