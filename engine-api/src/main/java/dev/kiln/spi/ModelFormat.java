package dev.kiln.spi;

import dev.kiln.graph.Graph;

import java.nio.file.Path;

/**
 * A model file format the engine can load ({@code Engine.load(Path)}, {@code engine.compile(Path)}),
 * found with {@link java.util.ServiceLoader} like a backend. {@code kiln-models} provides ONNX; the
 * engine itself knows no format, so that {@code kiln-engine-api} depends on the JDK alone.
 *
 * <p>Implementations must be cheap to construct and must not read the file in {@link #accepts}
 * beyond its name or first bytes.
 */
public interface ModelFormat {
    /** A short name for messages, e.g. {@code onnx}. */
    String name();

    /** Whether this format reads {@code file}: by its extension, or its first bytes. */
    boolean accepts(Path file);

    /**
     * Reads the file into a graph the caller owns and closes.
     *
     * @throws dev.kiln.KilnException for a file that is not a valid model of this format, saying
     *                                what and where
     */
    Graph load(Path file);
}
