package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.onnx.OnnxExporter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An ONNX file shipped with {@code SparkContext.addFile} and named by its file name only: the
 * executor imports its copy (Kiln's protobuf classes inside Spark's JVM) and gives the logits of
 * the zoo model it was exported from.
 */
class ShippedOnnxFileTest {
    @TempDir
    Path dir;

    @Test
    void modelAddedWithAddFileRunsOnExecutors() throws Exception {
        String name = "shipped-mobilenet.onnx";
        Path file = dir.resolve("models").resolve(name);
        Files.createDirectories(file.getParent());
        try (Graph graph = Models.byName(TransformerParityTest.MODEL).build(9)) {
            OnnxExporter.write(graph, file);
        }
        assertFalse(Files.exists(Path.of(name)), "the name alone must not be readable from the working folder");
        LocalSpark.session().sparkContext().addFile(file.toString());
        TestImages.writeJpegs(dir.resolve("images"), 6, 21);
        Dataset<Row> images = LocalSpark.session().read().format("binaryFile").load(dir.resolve("images").toString());

        int before = ExecutorModels.compilations();
        Map<String, List<Object>> fromFile = logits(new KilnTransformer().setModel(name), images);
        assertEquals(before + 1, ExecutorModels.compilations());
        Map<String, List<Object>> fromZoo = logits(new KilnTransformer().setModel(TransformerParityTest.MODEL).setSeed(9),
                images);

        assertEquals(fromZoo.keySet(), fromFile.keySet());
        for (String path : fromZoo.keySet()) {
            float[] a = TransformerParityTest.floats(fromZoo.get(path));
            float[] b = TransformerParityTest.floats(fromFile.get(path));
            float scale = 0;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < a.length; i++) {
                assertTrue(Math.abs(a[i] - b[i]) <= 1e-5f * scale, path + " class " + i + ": " + a[i] + " vs " + b[i]);
            }
            assertEquals(TransformerParityTest.topFive(a), TransformerParityTest.topFive(b), path);
        }
    }

    private static Map<String, List<Object>> logits(KilnTransformer kiln, Dataset<Row> images) {
        Map<String, List<Object>> byPath = new HashMap<>();
        List<Row> rows = kiln.setBackend("cpu-simd").setSelection("rank").transform(images)
                .select("path", "logits", "error").collectAsList();
        for (Row r : rows) {
            assertNull(r.<String>getAs("error"), () -> r.getAs("path") + ": " + r.getAs("error"));
            byPath.put(r.getAs("path"), r.getList(1));
        }
        return byPath;
    }
}
