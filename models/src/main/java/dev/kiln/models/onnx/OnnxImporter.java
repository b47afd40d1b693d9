package dev.kiln.models.onnx;

import dev.kiln.graph.Graph;
import dev.kiln.spi.OpRegistry;

import java.nio.file.Path;

/**
 * Reads ONNX model files (opsets 1 to 18 of the ai.onnx domain, float32 data) into Kiln graphs.
 *
 * <pre>{@code
 * try (Graph graph = OnnxImporter.load(Path.of("resnet50.onnx"));
 *      CompiledModel model = Engine.create().compile(graph)) {
 *     ...
 * }
 * }</pre>
 *
 * Graph inputs are the ONNX graph inputs that are not initializers, under their ONNX names; a
 * symbolic or missing dimension becomes {@link dev.kiln.Shape#DYNAMIC} and takes the batch size
 * at run time. Nodes keep their ONNX names ({@code <op>_<index>} when unnamed); where one ONNX
 * node becomes several Kiln nodes, the extra ones are named {@code <node>/<purpose>}.
 *
 * <p>An op Kiln does not have imports through the {@link dev.kiln.spi.OpProvider} that provides
 * it (by ONNX domain and op type; where Kiln imports an ai.onnx op itself, its own conversion wins). One no provider knows imports as an opaque node
 * ({@link dev.kiln.graph.ops.OpaqueOp}) when the file declares the shape of each of its outputs
 * ({@code value_info}, or the graph outputs' types): it then runs only on a backend that claims
 * it, and compiling fails naming the op and the node where none does. Without declared shapes
 * the import fails naming the op and saying it has no shape rule.
 */
public final class OnnxImporter {
    private OnnxImporter() {
    }

    /**
     * Loads a model: a validated Graph owning its weights (off-heap, copied from the file or its
     * external data files), which the caller closes.
     *
     * @throws OnnxFormatException naming the file and the node or tensor at fault, for a file that
     *                             is unreadable, inconsistent, or uses what Kiln does not run
     */
    public static Graph load(Path file) {
        return load(file, OpRegistry.discover());
    }

    /**
     * Loads a model as {@link #load(Path)} does, with the ops these providers add (besides Kiln's
     * own): a node whose op one of them provides (by ONNX domain and op type) becomes a
     * {@link dev.kiln.graph.ops.ProvidedOp}. {@link #load(Path)} uses the providers on the class
     * path and in the configured plugin folder ({@code --plugins}, {@code KILN_PLUGINS}).
     */
    public static Graph load(Path file, OpRegistry ops) {
        return GraphReader.load(ModelFile.read(file), ops);
    }

    /**
     * Reads a model without failing on unsupported ops or types, for {@code kiln inspect}: what
     * Kiln cannot run is listed in {@link OnnxSummary#unsupportedOps()}.
     *
     * @throws OnnxFormatException for a file that is not a readable ONNX model
     */
    public static OnnxSummary inspect(Path file) {
        return GraphReader.inspect(ModelFile.read(file), OpRegistry.discover());
    }
}
