package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.image.ImageNetPreprocessing;
import dev.kiln.models.io.Npy;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln run --image}: a photo through the ImageNet preprocessing, and named classes out. */
class ImageRunTest {
    /** The smallest network of the zoo, at 128x128. */
    private static final String MODEL = "mobilenet_v1_0.25_128";

    @TempDir
    Path dir;
    Path photo;

    @BeforeEach
    void drawPhoto() throws IOException {
        BufferedImage image = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(new Color(30, 140, 200));
        g.fillRect(0, 0, 200, 150);
        g.setColor(new Color(240, 200, 40));
        g.fillOval(50, 30, 90, 90);
        g.dispose();
        photo = dir.resolve("photo.png");
        assertTrue(ImageIO.write(image, "png", photo.toFile()));
    }

    @Test
    void imageIsPreprocessedAtTheModelsSizeAndTopFiveAreNamedWithSoftmaxProbabilities() throws IOException {
        Path logitsFile = dir.resolve("logits.npy");
        CliRun run = CliRun.of("run", "--model", MODEL, "--backend", "reference", "--seed", "3",
                "--image", photo.toString(), "--output", logitsFile.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode json = run.json();
        assertEquals("[1,3,128,128]", json.get("inputs").get(0).get("shape").toString());

        // What the model computes on the preprocessed photo, by the API.
        float[] expected;
        try (Graph graph = Models.byName(MODEL).build(3);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID);
             Tensor input = ImageNetPreprocessing.forInputSize(128, 128).read(photo);
             Tensor out = model.run(input)) {
            expected = out.toFloatArray();
        }
        float[] logits;
        try (Tensor written = Npy.read(logitsFile)) {
            logits = written.toFloatArray();
        }
        assertArrayEquals(expected, logits);

        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double total = 0;
        for (float v : logits) {
            total += Math.exp(v - max);
        }
        JsonNode labels = json.get("labels");
        assertEquals(1, labels.size(), "one list per batch item");
        assertEquals(5, labels.get(0).size());
        List<String> names;
        try (var labelFile = ImageRunTest.class.getResourceAsStream("/dev/kiln/models/imagenet/labels.txt")) {
            names = new String(labelFile.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        for (int rank = 0; rank < 5; rank++) {
            JsonNode prediction = labels.get(0).get(rank);
            int index = prediction.get("index").asInt();
            assertEquals(json.get("top5").get(0).get(rank).get(0).asInt(), index, "the classes of top5, in order");
            assertEquals(names.get(index), prediction.get("label").asText());
            assertEquals(Math.exp(logits[index] - max) / total, prediction.get("probability").asDouble(), 1e-6);
        }
    }

    @Test
    void humanOutputListsLabelsWithPercentages() {
        CliRun run = CliRun.of("run", "--model", MODEL, "--image", photo.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().contains("input     [1, 3, 128, 128], " + photo
                + ", ImageNet preprocessing (shorter side 146, centre crop 128x128)"), run.out());
        List<String> top = run.out().lines().dropWhile(l -> !l.startsWith("top-5")).toList();
        assertEquals(5, top.size(), run.out());
        for (String line : top) {
            assertTrue(line.matches("(top-5|     ) +[0-9]+\\.[0-9]{2}%  .+ \\([0-9]+\\)"), line);
        }
    }

    @Test
    void onnxModelTakesItsFixedSizeOr224WhenTheSizeIsSymbolic() throws IOException {
        Path fixed = OnnxTestFiles.convRelu(dir.resolve("fixed.onnx"), 3, 32, 40);
        CliRun run = CliRun.of("run", "--model", fixed.toString(), "--image", photo.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals("[1,3,32,40]", run.json().get("inputs").get(0).get("shape").toString());
        assertEquals("[1,3,32,40]", run.json().get("output_shape").toString());

        Path symbolic = OnnxTestFiles.convRelu(dir.resolve("any_size.onnx"), 3, -1, -1);
        run = CliRun.of("run", "--model", symbolic.toString(), "--image", photo.toString(), "--json");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals("[1,3,224,224]", run.json().get("inputs").get(0).get("shape").toString());
        assertEquals("[1,3,224,224]", run.json().get("output_shape").toString());
        // On open image sizes the optimizer skips pad folding: said on stderr, keeping stdout pure JSON.
        assertTrue(run.err().contains("kiln: note: graph") && run.err().contains("optimized for its fixed axes")
                && run.err().contains("pad-folding"), run.describe());
        CliRun optimized = CliRun.of("run", "--model", fixed.toString(), "--image", photo.toString());
        assertTrue(!optimized.err().contains("kiln: note: graph"), optimized.describe());
    }

    @Test
    void imageAndInputAreAlternatives() {
        CliRun run = CliRun.of("run", "--model", MODEL, "--image", photo.toString(), "--input", "x.npy");
        assertEquals(ErrorReporter.USAGE, run.exitCode(), run.describe());
        assertTrue(run.err().contains("--image and --input are alternatives"), run.err());
    }

    @Test
    void imageNeedsAnRgbInput() throws IOException {
        Path twoChannels = OnnxTestFiles.convRelu(dir.resolve("two.onnx"), 2, 8, 8);
        CliRun run = CliRun.of("run", "--model", twoChannels.toString(), "--image", photo.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertTrue(run.err().contains("model two.onnx takes image [?, 2, 8, 8], but --image makes an RGB image"),
                run.err());
    }

    @Test
    void unreadableImageIsARuntimeErrorNamingTheFile() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.jpg"), "no pixels here");
        CliRun run = CliRun.of("run", "--model", MODEL, "--image", text.toString());
        assertEquals(ErrorReporter.RUNTIME, run.exitCode(), run.describe());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("kiln: error: " + text + ": not an image"), run.err());
    }
}
