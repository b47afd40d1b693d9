package dev.kiln.fuzz;

import dev.kiln.CompiledModel;
import dev.kiln.CompileOptions;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.reference.ReferenceBackend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One execution of the fuzz target: the bytes as an ONNX file through import, the optimizer,
 * compilation and a run on the reference backend. A {@link KilnException} anywhere is the
 * expected way to refuse a bad file; any other exception or error is a finding.
 *
 * <p>Runs are bounded so that an execution takes milliseconds: the engine's memory limits are
 * small, and a graph whose forward pass needs more than {@link #MAX_MACS} multiply-accumulates is
 * compiled but not run.
 */
final class ModelFileTarget {
    static final long MAX_MEMORY_BYTES = 64L << 20;
    static final long MAX_TENSOR_BYTES = 16L << 20;
    static final long MAX_MACS = 20_000_000;

    /** How an execution ended. */
    enum Outcome { RAN, REFUSED, COMPILED_ONLY }

    private final Engine engine = Engine.create(EngineOptions.defaults().withThreads(1)
            .withMaxMemoryBytes(MAX_MEMORY_BYTES).withMaxTensorBytes(MAX_TENSOR_BYTES));
    private final Path file;

    ModelFileTarget(Path scratch) {
        this.file = scratch.resolve("model.onnx");
    }

    /**
     * @throws Throwable anything but a {@link KilnException}: a finding
     */
    Outcome exercise(byte[] model) throws IOException {
        Files.write(file, model);
        try (Graph graph = OnnxImporter.load(file);
             CompiledModel compiled = engine.compile(graph, new CompileOptions(ReferenceBackend.ID, true))) {
            if (!graph.hasFixedShapesBesidesBatch() || graph.macs(1) > MAX_MACS) {
                return Outcome.COMPILED_ONLY;
            }
            Map<String, Tensor> inputs = new HashMap<>();
            try {
                for (Map.Entry<String, Shape> e : graph.inputShapesForBatch(1).entrySet()) {
                    Tensor t = Tensor.allocate(e.getValue());
                    inputs.put(e.getKey(), t);
                    for (long i = 0; i < t.elementCount(); i++) {
                        t.set(i, (i % 7) - 3);
                    }
                }
                compiled.run(inputs).values().forEach(Tensor::close);
            } finally {
                inputs.values().forEach(Tensor::close);
            }
            return Outcome.RAN;
        } catch (KilnException refused) {
            return Outcome.REFUSED;
        }
    }
}
