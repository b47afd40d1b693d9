package dev.kiln.models.onnx;

import dev.kiln.graph.Graph;
import dev.kiln.spi.ModelFormat;

import java.nio.file.Path;
import java.util.Locale;

/** ONNX files ({@code .onnx}) for {@code Engine.load(Path)}: registered as a {@link ModelFormat} service. */
public final class OnnxModelFormat implements ModelFormat {
    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public boolean accepts(Path file) {
        Path name = file.getFileName();
        return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    @Override
    public Graph load(Path file) {
        return OnnxImporter.load(file);
    }
}
