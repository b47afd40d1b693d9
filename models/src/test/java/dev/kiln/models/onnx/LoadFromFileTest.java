package dev.kiln.models.onnx;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.ElementType;
import dev.kiln.Engine;
import dev.kiln.InvalidModelFileException;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.Models;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * From a file to a runnable model in one call ({@code Engine.load}, {@code engine.compile(Path)}),
 * through the ONNX {@link dev.kiln.spi.ModelFormat} this module registers: the model owns the
 * graph it read, and says what its outputs are.
 */
class LoadFromFileTest {
    private static final String MODEL = "mobilenet_v1_0.25_128";

    @TempDir
    Path folder;

    private Path exported() throws IOException {
        Path file = folder.resolve("model.onnx");
        try (Graph graph = Models.byName(MODEL).build(7)) {
            OnnxExporter.write(graph, file);
        }
        return file;
    }

    private static float[] run(CompiledModel model, int batch) {
        try (Tensor x = Tensor.allocate(batch, 3, 128, 128)) {
            float[] pixels = new float[batch * 3 * 128 * 128];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (i % 251) / 251f - 0.5f;
            }
            x.copyFrom(pixels);
            try (Tensor y = model.run(x)) {
                assertEquals(Shape.of(batch, 1000), y.shape());
                return y.toFloatArray();
            }
        }
    }

    @Test
    void loadGivesAModelThatOwnsItsGraphAndDescribesItsOutputs() throws IOException {
        Path file = exported();
        long before = Tensor.allocatedBytes();
        float[] viaGraph;
        try (Engine engine = Engine.create();
             Graph graph = OnnxImporter.load(file);
             CompiledModel model = engine.compile(graph, ReferenceBackend.ID)) {
            viaGraph = run(model, 2);
        }
        try (CompiledModel model = Engine.load(file)) {
            ValueInfo out = model.outputs().getFirst();
            assertEquals(model.outputNames().getFirst(), out.name());
            assertEquals(Shape.of(Shape.DYNAMIC, 1000), out.shape(), "the batch axis follows the input's");
            assertTrue(out.hasBatchAxis() && model.inputs().getFirst().hasBatchAxis());
            assertEquals(ElementType.FLOAT32, out.elementType());
            float[] viaFile = run(model, 2);
            for (int i = 0; i < viaGraph.length; i++) {
                assertEquals(viaGraph[i], viaFile[i], 1e-4f * Math.max(1f, Math.abs(viaGraph[i])), "output " + i);
            }
        }
        assertEquals(before, Tensor.allocatedBytes(), "the graph read from the file is freed with the model");
    }

    @Test
    void compileOfAPathTakesTheEnginesOptions() throws IOException {
        Path file = exported();
        try (Engine engine = Engine.create();
             CompiledModel model = engine.compile(file, CompileOptions.defaults().withBackend(ReferenceBackend.ID))) {
            assertEquals(ReferenceBackend.ID, model.backend());
            assertEquals(1000, run(model, 1).length);
        }
    }

    @Test
    void aFileNoFormatReadsIsRefusedNamingIt() throws IOException {
        Path text = Files.writeString(folder.resolve("weights.txt"), "not a model");
        InvalidModelFileException e = assertThrows(InvalidModelFileException.class, () -> Engine.load(text));
        assertTrue(e.getMessage().contains(text.toString()) && e.getMessage().contains("onnx"), e.getMessage());
    }

    @Test
    void aBrokenOnnxFileIsRefusedAndLeavesNothingOpen() throws IOException {
        Path broken = Files.write(folder.resolve("broken.onnx"), new byte[] {8, 1, 0x7f, 0x7f, 0x7f});
        long before = Tensor.allocatedBytes();
        KilnException e = assertThrows(KilnException.class, () -> Engine.load(broken));
        assertTrue(e.getMessage().contains(broken.toString()), e.getMessage());
        assertEquals(before, Tensor.allocatedBytes());
    }
}
