package dev.kiln.cli;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.MemoryLimitException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.onnx.OnnxImporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One crafted file per class of hostile or malformed model ({@code scripts/make-hostile-models.py}
 * wrote them; {@code expectations.tsv} says what each must do), run through the API and through
 * the command line: each ends in a clear error (a {@link KilnException} through the API; one
 * {@code kiln: error:} line, exit code 1 and no stack trace through the CLI) or, for the valid
 * ones, in a correct run. {@code inspect} must not call a model runnable that {@code run} refuses.
 * Classes that are not files (a directory, a FIFO, a device) are made here.
 *
 * <p>Some of these files are made to never end (a FIFO blocks a read for ever) or to take
 * without bound (dimensions near the integer limits): each call here has a hang guard, generous
 * so that a slow or busy machine never trips it. How fast a file is refused is measured by
 * {@code dev.kiln.benchmarks.ModelFileRefusalBenchmark}, not asserted here.
 */
class HostileModelsTest {
    /** A hang guard, not a speed limit: warm, each file ends in 0.6-5.4 ms through the API (the benchmark, 2 cores). */
    private static final Duration HANG = Duration.ofSeconds(60);
    /** Limits the memory of every run here, so that the memory class fails the same way on every machine. */
    private static final String MAX_MEMORY = "1G";
    private static final String RUNS = "runs";

    @TempDir
    Path dir;

    /** --max-memory sets a system property, as --threads does: it must not outlive the test. */
    @AfterEach
    void forgetTheMemoryLimit() {
        System.clearProperty(EngineOptions.MAX_MEMORY_PROPERTY);
    }

    record Case(String file, String expectation) {
        Path path() {
            try {
                return Path.of(HostileModelsTest.class.getResource("/hostile/" + file).toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }

        boolean runs() {
            return expectation.equals(RUNS);
        }

        @Override
        public String toString() {
            return file;
        }
    }

    static Stream<Case> cases() throws IOException, URISyntaxException {
        Path index = Path.of(HostileModelsTest.class.getResource("/hostile/expectations.tsv").toURI());
        List<Case> cases = Files.readAllLines(index).stream().filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(l -> l.split("\t", 2)).map(p -> new Case(p[0], p[1])).toList();
        assertTrue(cases.size() >= 20, "expected the script's 20-odd classes, found " + cases.size());
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void throughTheApiEachFailsClearlyOrRunsCorrectly(Case c) {
        assertTimeoutPreemptively(HANG, () -> {
            Engine engine = Engine.create(EngineOptions.defaults().withMaxMemoryBytes(EngineOptions.parseBytes(
                    MAX_MEMORY, "limit")));
            try (Graph graph = OnnxImporter.load(c.path());
                 CompiledModel model = engine.compile(graph)) {
                Map<String, Tensor> outputs = runOnCountingInputs(model);
                try {
                    if (!c.runs()) {
                        fail(c.file() + " ran, but should have failed with '" + c.expectation() + "'");
                    }
                    checkOutputs(c.file(), outputs);
                } finally {
                    outputs.values().forEach(Tensor::close);
                }
            } catch (KilnException e) {
                if (c.runs()) {
                    throw new AssertionError(c.file() + " should run, but failed: " + e.getMessage(), e);
                }
                assertTrue(e.getMessage().contains(c.expectation()), "expected '" + c.expectation() + "' in: "
                        + e.getMessage());
                if (c.expectation().equals("memory")) {
                    assertTrue(e instanceof MemoryLimitException, e.toString());
                }
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void throughTheCommandLineEachFailsInOneLineOrRuns(Case c) {
        CliRun run = assertTimeoutPreemptively(HANG, () -> CliRun.of("run", "--model", c.path().toString(),
                "--max-memory", MAX_MEMORY));
        if (c.runs()) {
            assertEquals(0, run.exitCode(), run.describe());
            return;
        }
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertOneClearErrorLine(run, c.expectation());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inspectDoesNotCallRunnableWhatRunRefuses(Case c) {
        CliRun run = assertTimeoutPreemptively(HANG, () -> CliRun.of("inspect", c.path().toString(),
                "--max-memory", MAX_MEMORY));
        assertFalse(run.err().contains("internal error") || run.err().contains("\tat "), run.describe());
        // Under the same memory limit: a model too large to run here is described as such.
        boolean runnable = c.runs();
        if (run.exitCode() != 0) {
            assertFalse(runnable, run.describe());
            assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
            assertOneClearErrorLine(run, "");
            return;
        }
        assertEquals(runnable, run.out().contains("Kiln can run this model"), run.describe());
        assertEquals(!runnable, run.out().contains("Kiln cannot run this model"), run.describe());
        if (c.expectation().equals("memory")) {
            assertTrue(run.out().contains("more memory than the limit") && run.out().contains("14.4 GB"),
                    run.describe());
        }
    }

    @Test
    void aDirectoryAFifoAndADeviceAreRefusedAtOnceWithWhatTheyAre() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("folder.onnx"));
        Path fifo = dir.resolve("model.onnx");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo failed");
        Map<Path, String> kinds = Map.of(folder, "is a directory", fifo, "is a FIFO", Path.of("/dev/zero"),
                "is a character device");
        for (Map.Entry<Path, String> e : kinds.entrySet()) {
            String file = e.getKey().toString();
            KilnException thrown = assertTimeoutPreemptively(HANG, () -> {
                try (Graph g = OnnxImporter.load(e.getKey())) {
                    return null;
                } catch (KilnException k) {
                    return k;
                }
            });
            assertTrue(thrown != null && thrown.getMessage().contains(file)
                    && thrown.getMessage().contains(e.getValue()), String.valueOf(thrown));
            for (String command : List.of("inspect", "run")) {
                CliRun run = assertTimeoutPreemptively(HANG, () -> command.equals("inspect")
                        ? CliRun.of("inspect", file) : CliRun.of("run", "--model", file));
                assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
                assertOneClearErrorLine(run, file + " " + e.getValue());
            }
        }
    }

    @Test
    void aBatchBeyondTheMemoryLimitIsAUsageErrorBeforeAnyInputIsMade() {
        for (String command : List.of("run", "bench")) {
            CliRun run = assertTimeoutPreemptively(HANG, () -> CliRun.of(command, "--model", "mobilenet_v1",
                    "--batch", "10000", "--max-memory", "2G"));
            assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
            String error = run.err().lines().filter(l -> l.startsWith("kiln: error:")).findFirst().orElseThrow();
            assertTrue(error.contains("--batch 10000") && error.contains("2.1 GB (2,147,483,648 bytes)"), error);
        }
    }

    @Test
    void aBadMemoryLimitIsAUsageError() {
        CliRun run = CliRun.of("run", "--model", "mobilenet_v1", "--max-memory", "lots");
        assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
        assertOneClearErrorLine(run, "--max-memory must be a positive size");
    }

    /** Inputs holding -5, -3, -1, 1, ... (2i - 5), for the valid files, whose outputs are computed by hand below. */
    private static Map<String, Tensor> runOnCountingInputs(CompiledModel model) {
        Map<String, Tensor> inputs = new HashMap<>();
        try {
            for (ValueInfo v : model.inputs()) {
                Tensor t = Tensor.allocate(v.shape());
                for (int i = 0; i < t.elementCount(); i++) {
                    t.set(i, 2 * i - 5);
                }
                inputs.put(v.name(), t);
            }
            return model.run(inputs);
        } finally {
            inputs.values().forEach(Tensor::close);
        }
    }

    private static void checkOutputs(String file, Map<String, Tensor> outputs) {
        switch (file) {
            case "conv_same_upper_huge_stride.onnx", "conv_same_lower_huge_stride.onnx" -> {
                // One window, since the stride passes the 4x4 input; a 5x5 kernel needs one pad per axis,
                // so the window covers the whole input. Ones as weights: the sum of 2i - 5 over i < 16,
                // 2 * 120 - 80 = 160. (Before, the huge stride overflowed and SAME got no pads: refused.)
                Tensor y = outputs.get("y");
                assertEquals(Shape.of(1, 1, 1, 1), y.shape());
                assertEquals(160, y.get(0), 1e-6);
            }
            case "duplicate_output.onnx" -> {
                assertEquals(1, outputs.size(), "one tensor for the output listed twice");
                Tensor y = outputs.get("y");
                for (int i = 0; i < y.elementCount(); i++) {
                    assertEquals(Math.max(0, 2 * i - 5), y.get(i), 0f);
                }
            }
            default -> fail("no check written for the valid file " + file);
        }
    }

    private static void assertOneClearErrorLine(CliRun run, String expected) {
        List<String> lines = run.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(1, lines.size(), "one line on stderr: " + run.describe());
        assertTrue(lines.getFirst().startsWith("kiln: error: ") && lines.getFirst().contains(expected),
                "expected '" + expected + "' in: " + run.err());
        assertFalse(lines.getFirst().contains("internal error"), run.err());
    }
}
