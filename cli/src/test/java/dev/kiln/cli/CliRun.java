package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process invocation of the kiln command, with what it printed. */
record CliRun(int exitCode, String out, String err) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Runs the command; the global options it sets as {@code kiln.*} system properties ({@code --select},
     * {@code --threads}...) are put back afterwards, so that one test's options do not leak into the next.
     */
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        java.util.Map<String, String> saved = new java.util.HashMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("kiln."))
                .forEach(k -> saved.put(k, System.getProperty(k)));
        int code;
        try {
            code = Kiln.commandLine()
                    .setOut(new PrintWriter(out, true))
                    .setErr(new PrintWriter(err, true))
                    .execute(args);
        } finally {
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("kiln.")
                    && !saved.containsKey(k)).toList().forEach(System::clearProperty);
            saved.forEach(System::setProperty);
        }
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Stdout parsed as JSON: fails when anything but JSON was printed there. */
    JsonNode json() {
        try {
            return JSON.readTree(out);
        } catch (Exception e) {
            throw new AssertionError("stdout is not valid JSON: " + e.getMessage() + "\n--- stdout:\n" + out
                    + "\n--- stderr:\n" + err, e);
        }
    }

    /** For assertion messages. */
    String describe() {
        return "exit " + exitCode + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
    }

    /**
     * Skips a test that needs OpenCL where no runtime is installed, saying why; fails instead when
     * {@code KILN_REQUIRE_OPENCL} is set, as {@code ./run-tests} sets it after installing PoCL, so
     * that CI never counts a skip as a pass.
     */
    static void assumeOpenClOrRequired(boolean available, java.util.function.Supplier<String> why) {
        if (System.getenv("KILN_REQUIRE_OPENCL") != null) {
            org.junit.jupiter.api.Assertions.assertTrue(available, () -> "KILN_REQUIRE_OPENCL is set but " + why.get());
        }
        if (!available) {
            // In the test output too, not only in the report's skip count.
            System.out.println("SKIPPED: " + why.get());
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available, why);
    }
}
