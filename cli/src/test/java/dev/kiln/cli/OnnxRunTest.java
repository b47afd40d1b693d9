package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.models.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln run} on ONNX files: one input, several inputs by name, every output to a folder. */
class OnnxRunTest {
    private static final float TOLERANCE = 1e-5f;

    @TempDir
    Path dir;

    @Test
    void runsAnOnnxFileOnOneInputFile() throws IOException {
        Path model = OnnxTestFiles.convRelu(dir.resolve("conv_relu.onnx"), 2, 4, 4);
        Shape shape = Shape.of(2, 2, 4, 4); // the batch of 2 fills the file's symbolic N
        float[] x = write("x.npy", shape, 1);
        Path y = dir.resolve("y.npy");

        CliRun run = CliRun.of("run", "--model", model.toString(), "--input", dir.resolve("x.npy").toString(),
                "--output", y.toString(), "--json");

        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertEquals("conv_relu.onnx", json.get("model").asText());
        assertEquals(2, json.get("batch").asInt());
        assertEquals("[2,3,4,4]", json.get("output_shape").toString());
        assertEquals("image", json.get("inputs").get(0).get("name").asText());
        assertEquals("features", json.get("outputs").get(0).get("name").asText());
        assertFalse(json.has("labels"), "not an ImageNet classifier: " + json);
        float[] expected = OnnxTestFiles.conv(x, shape);
        for (int i = 0; i < expected.length; i++) {
            expected[i] = Math.max(0, expected[i]);
        }
        assertValues(expected, y);
    }

    @Test
    void twoInputsByNameInAnyOrderAndEveryOutputToAFolder() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        float[] a = write("a.npy", Shape.of(1, 2, 4, 4), 2);
        float[] b = write("b.npy", Shape.of(1, 3, 4, 4), 3);
        Path out = dir.resolve("out");

        CliRun run = CliRun.of("run", "--model", model.toString(), "--backend", "reference",
                "--input", "b=" + dir.resolve("b.npy"), "--input", "a=" + dir.resolve("a.npy"),
                "--output-dir", out.toString(), "--json");

        assertEquals(0, run.exitCode(), run.describe());
        float[] sum = OnnxTestFiles.conv(a, Shape.of(1, 2, 4, 4));
        float[] relu = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] += b[i];
            relu[i] = Math.max(0, sum[i]);
        }
        assertValues(sum, out.resolve("sum.npy"));
        assertValues(relu, out.resolve("act_relu_0.npy"));
        try (var files = Files.list(out)) {
            assertEquals(2, files.count(), "one file per output");
        }
        JsonNode outputs = run.json().get("outputs");
        assertEquals("act/relu:0", outputs.get(1).get("name").asText());
        assertEquals(out.resolve("act_relu_0.npy").toString(), outputs.get(1).get("file").asText());
        JsonNode inputs = run.json().get("inputs");
        assertEquals("a", inputs.get(0).get("name").asText(), "inputs in the model's order");
        assertEquals(dir.resolve("a.npy").toString(), inputs.get(0).get("source").asText());
    }

    @Test
    void humanOutputNamesEachInputAndOutputOfAModelWithSeveral() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        CliRun run = CliRun.of("run", "--model", model.toString(), "--seed", "5");
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().contains("input     a [1, 2, 4, 4], random normal(0, 1), seed 5\n"), run.out());
        assertTrue(run.out().contains("input     b [1, 3, 4, 4], random normal(0, 1), seed 6\n"), run.out());
        assertTrue(run.out().contains("output    act/relu:0 [1, 3, 4, 4]\n"), run.out());
    }

    @Test
    void aMissingOrUnknownInputNameListsTheModelsInputs() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        write("a.npy", Shape.of(1, 2, 4, 4), 2);
        String a = "a=" + dir.resolve("a.npy");
        String inputs = "the model's inputs: a [?, 2, 4, 4], b [?, 3, 4, 4]";

        CliRun missing = CliRun.of("run", "--model", model.toString(), "--input", a);
        assertUsageError(missing, "no --input for 'b'", inputs);

        CliRun unknown = CliRun.of("run", "--model", model.toString(), "--input", a, "--input", "c=c.npy");
        assertUsageError(unknown, "the model has no input 'c'", inputs);

        CliRun unnamed = CliRun.of("run", "--model", model.toString(), "--input", dir.resolve("a.npy").toString());
        assertUsageError(unnamed, "the model has 2 inputs: give each as --input NAME=FILE.npy", inputs);
    }

    @Test
    void outputFileNeedsAModelWithOneOutput() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        CliRun run = CliRun.of("run", "--model", model.toString(), "--output", dir.resolve("y.npy").toString());
        assertUsageError(run, "--output needs a model with one output; this one has 2 (sum, act/relu:0)",
                "--output-dir");
    }

    @Test
    void inputOfTheWrongShapeForANamedInputSaysWhichInput() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        write("a.npy", Shape.of(1, 2, 4, 4), 2);
        write("b.npy", Shape.of(1, 2, 4, 4), 3);
        CliRun run = CliRun.of("run", "--model", model.toString(), "--input", "a=" + dir.resolve("a.npy"),
                "--input", "b=" + dir.resolve("b.npy"));
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertTrue(run.err().contains("b.npy holds a [1, 2, 4, 4] tensor, but model skip.onnx expects [?, 3, 4, 4]"
                + " for input 'b'"), run.err());
    }

    private float[] write(String name, Shape shape, long seed) throws IOException {
        try (Tensor t = RandomInput.normal(shape, seed)) {
            Npy.write(dir.resolve(name), t);
            return t.toFloatArray();
        }
    }

    private static void assertValues(float[] expected, Path file) throws IOException {
        try (Tensor written = Npy.read(file)) {
            assertArrayEquals(expected, written.toFloatArray(), TOLERANCE, file.toString());
        }
    }

    private static void assertUsageError(CliRun run, String... expected) {
        assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
        assertEquals(1, run.err().lines().count(), run.err());
        for (String part : expected) {
            assertTrue(run.err().contains(part), "expected '" + part + "' in: " + run.err());
        }
    }

    @Test
    void benchesAModelWithTwoInputsAndTwoOutputs() throws IOException {
        Path model = OnnxTestFiles.convPlusSkip(dir.resolve("skip.onnx"));
        CliRun run = CliRun.of("bench", "--model", model.toString(), "--backend", "reference", "--batch", "2",
                "--runs", "2", "--warmup", "0", "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode result = run.json().get(0);
        assertEquals("skip.onnx", result.get("model").asText());
        assertEquals(2, result.get("batch").asInt());
        assertEquals(0.0, result.get("max_rel_error").asDouble(), "two runs of the reference agree exactly");
    }
}
