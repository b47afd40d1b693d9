package dev.kiln.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model or backend that does not exist fails the job when it is set up, on the driver, with
 * Kiln's message, before any task runs (transform returns a lazy plan otherwise).
 */
class FailFastTest {
    @TempDir
    static Path dir;
    static Dataset<Row> images;

    @BeforeAll
    static void images() throws Exception {
        TestImages.writeJpegs(dir, 2, 5);
        images = LocalSpark.session().read().format("binaryFile").load(dir.toString());
    }

    @Test
    void unknownZooModel() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new KilnTransformer().setModel("resnet5").transform(images));
        assertTrue(e.getMessage().startsWith("unknown model 'resnet5'; known models: "), e.getMessage());
    }

    @Test
    void missingModelFile() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new KilnTransformer().setModel("nowhere/missing.onnx").transform(images));
        assertTrue(e.getMessage().startsWith("model file nowhere/missing.onnx is not readable here"), e.getMessage());
    }

    @Test
    void unknownBackend() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new KilnTransformer().setModel("resnet18").setBackend("cuda").transform(images));
        assertTrue(e.getMessage().startsWith("unknown backend 'cuda'; known backends: "), e.getMessage());
    }

    @Test
    void noModelParam() {
        var e = assertThrows(IllegalArgumentException.class, () -> new KilnTransformer().transform(images));
        assertEquals("KilnTransformer: set the model param (a zoo name or an .onnx file)", e.getMessage());
    }

    @Test
    void inputColumnOfAnotherType() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new KilnTransformer().setModel("resnet18").setInputCol("length").transform(images));
        assertEquals("input column 'length' is bigint: Kiln reads binary image bytes (the binaryFile source's content)"
                + " or array<float> tensors", e.getMessage());
    }
}
