package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln inspect} on ONNX files the test writes. */
class InspectCommandTest {
    /** Conv weight [3, 2, 3, 3] and bias [3]. */
    private static final long CONV_PARAMETERS = 3 * 2 * 3 * 3 + 3;

    @TempDir
    Path dir;

    @Test
    void jsonDescribesTheFile() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        CliRun run = CliRun.of("inspect", model.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertEquals(model.toString(), json.get("file").asText());
        assertEquals(OnnxTestFiles.IR_VERSION, json.get("ir_version").asLong());
        assertEquals("{\"ai.onnx\":13}", json.get("opsets").toString());
        assertTrue(json.get("producer").asText().contains(OnnxTestFiles.PRODUCER), json.toString());
        assertEquals("[{\"name\":\"a\",\"shape\":[\"?\",2,4,4]},{\"name\":\"b\",\"shape\":[\"?\",3,4,4]}]",
                json.get("inputs").toString());
        assertEquals("[{\"name\":\"sum\",\"shape\":[\"?\",3,4,4]},{\"name\":\"act/relu:0\",\"shape\":[\"?\",3,4,4]}]",
                json.get("outputs").toString());
        assertEquals("{\"Conv\":1,\"Add\":1,\"Relu\":1}", json.get("op_counts").toString());
        assertEquals(CONV_PARAMETERS, json.get("params").asLong());
        assertEquals("[]", json.get("unsupported_ops").toString());
    }

    @Test
    void humanOutputShowsShapesOpsAndThatKilnCanRunIt() throws IOException {
        Path model = OnnxTestFiles.convRelu(dir.resolve("conv.onnx"), 2, -1, -1);
        CliRun run = CliRun.of("inspect", model.toString());
        assertEquals(0, run.exitCode(), run.describe());
        String out = run.out();
        assertTrue(out.contains("opsets        ai.onnx 13\n"), out);
        assertTrue(out.contains("ir version    8\n"), out);
        assertTrue(out.contains("input         image [?, 2, ?, ?]\n"), out);
        assertTrue(out.contains("output        features [?, 3, ?, ?]\n"), out);
        assertTrue(out.contains("parameters    57\n"), out);
        assertTrue(out.contains("unsupported   none"), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("Conv +1")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("Relu +1")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("total +2")), out);
    }

    @Test
    void unsupportedOpsAreListedAndAreNoFailure() throws IOException {
        Path model = OnnxTestFiles.withUnsupportedOp(dir.resolve("celu.onnx"));
        CliRun json = CliRun.of("inspect", model.toString(), "--json");
        assertEquals(0, json.exitCode(), json.describe());
        assertTrue(json.json().get("unsupported_ops").toString().contains("Celu"), json.out());
        assertEquals("{\"Conv\":1,\"Celu\":1}", json.json().get("op_counts").toString());

        CliRun human = CliRun.of("inspect", model.toString());
        assertEquals(0, human.exitCode(), human.describe());
        assertTrue(human.out().lines().anyMatch(l -> l.startsWith("unsupported   ") && l.contains("Celu")
                && l.endsWith("(Kiln cannot run this model)")), human.out());
    }

    @Test
    void aFileThatIsNotOnnxFailsWithTheImportersMessage() throws IOException {
        Path notOnnx = Files.writeString(dir.resolve("notes.onnx"), "this is not a protobuf at all\n");
        CliRun run = CliRun.of("inspect", notOnnx.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("kiln: error: ") && run.err().contains("notes.onnx"), run.err());
        assertEquals("", run.out());

        CliRun missing = CliRun.of("inspect", dir.resolve("absent.onnx").toString());
        assertEquals(ErrorReporter.RUNTIME, missing.exitCode(), missing.describe());
        assertTrue(missing.err().startsWith("kiln: error: ") && missing.err().contains("absent.onnx"),
                missing.err());
    }

    @Test
    void theMemoryARunNeedsIsShownAgainstTheLimit() throws IOException {
        // 1 x 2 x 64 x 64 in, 1 x 3 x 64 x 64 out: 32 KB + 48 KB, and the conv's output buffer.
        Path model = OnnxTestFiles.convRelu(dir.resolve("conv64.onnx"), 2, 64, 64);
        CliRun fits = CliRun.of("inspect", model.toString(), "--json");
        assertEquals(0, fits.exitCode(), fits.describe());
        long needed = fits.json().get("memory_per_run_bytes").asLong();
        assertTrue(needed >= (2 + 3) * 64 * 64 * 4, fits.json().toString());
        assertTrue(fits.json().get("runnable").asBoolean(), fits.json().toString());

        CliRun tooSmall = CliRun.of("inspect", model.toString(), "--max-memory", Long.toString(needed - 1));
        assertEquals(0, tooSmall.exitCode(), tooSmall.describe());
        assertTrue(tooSmall.out().contains("Kiln cannot run this model here"), tooSmall.out());
        assertTrue(tooSmall.out().contains("memory        " + dev.kiln.EngineOptions.describeBytes(needed)
                + " per run at batch 1"), tooSmall.out());
        CliRun json = CliRun.of("inspect", model.toString(), "--max-memory", Long.toString(needed - 1), "--json");
        assertTrue(!json.json().get("runnable").asBoolean() && json.json().get("memory_limit_bytes").asLong() == needed - 1,
                json.json().toString());
    }

    @Test
    void aNegativeDimensionIsRefusedNamingTheInput() throws IOException {
        Path model = OnnxTestFiles.reluWithLiteralDims(dir.resolve("negative.onnx"), 1, -5, 4, 4);
        for (String command : new String[]{"inspect", "run"}) {
            CliRun run = command.equals("inspect") ? CliRun.of("inspect", model.toString())
                    : CliRun.of("run", "--model", model.toString());
            assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
            assertTrue(run.err().contains("graph input 'x' declares dimension -5 on axis 1"), run.describe());
        }
    }
}
