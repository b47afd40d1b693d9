package dev.kiln.conformance.fuzz;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One execution of the model-file fuzzer (the hostile-input fuzzer, whose mutants are corrupted
 * ONNX files): the bytes as an ONNX file through import, the optimizer, compilation on a backend
 * and a run. A {@link KilnException} anywhere is the expected way to refuse a bad file; any other
 * exception or error is a finding, and so is a crash or hang of a native backend, which
 * {@link WorkerJvmRunner} runs in its worker JVM ({@link WorkerJvmRunner#exercise}).
 *
 * <p>Runs are bounded so that an execution takes milliseconds: the engine's memory limits are
 * small, and a graph whose forward pass needs more than {@link #MAX_MACS} multiply-accumulates is
 * compiled but not run.
 */
public final class ModelFileCheck {
    static final long MAX_MEMORY_BYTES = 64L << 20;
    static final long MAX_TENSOR_BYTES = 16L << 20;
    /** Graphs above this many multiply-accumulates are compiled, not run. */
    public static final long MAX_MACS = 20_000_000;

    /** How an execution ended. */
    public enum Outcome {
        RAN, REFUSED, COMPILED_ONLY,
        /** Ended in another exception or error than a {@link KilnException}: a finding. */
        FAILED,
        /** The worker JVM died or hung on it: a finding. */
        CRASHED;

        public boolean isFinding() {
            return this == FAILED || this == CRASHED;
        }
    }

    /** An outcome and, for a finding, what happened (the exception and the first Kiln frame, or the worker's end). */
    public record Result(Outcome outcome, String message) {
        String toLine() {
            return outcome + "\t" + message.replace('\n', ' ').replace('\t', ' ');
        }

        static Result parse(String line) {
            String[] f = line.split("\t", 2);
            return new Result(Outcome.valueOf(f[0]), f.length > 1 ? f[1] : "");
        }
    }

    private final Engine engine = Engine.create(EngineOptions.defaults().withThreads(1)
            .withMaxMemoryBytes(MAX_MEMORY_BYTES).withMaxTensorBytes(MAX_TENSOR_BYTES));
    private final Path file;

    /** @param scratch a folder for the model file of each execution */
    public ModelFileCheck(Path scratch) {
        this.file = scratch.resolve("model.onnx");
    }

    /**
     * Runs {@code model} on {@code backend}.
     *
     * @throws Throwable anything but a {@link KilnException}: a finding
     */
    public Outcome exercise(byte[] model, String backend) throws IOException {
        Files.write(file, model);
        try (Graph graph = OnnxImporter.load(file);
             CompiledModel compiled = engine.compile(graph, new CompileOptions(backend, true))) {
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

    /** Like {@link #exercise(byte[], String)} on the file at {@code model}, a finding returned as a result. */
    public Result check(Path model, String backend) {
        try {
            return new Result(exercise(Files.readAllBytes(model), backend), "");
        } catch (Throwable t) { // a finding, whatever it is: an Error from a native bound as much as an exception
            return new Result(Outcome.FAILED, describe(t));
        }
    }

    /** The throwable and the first frame in Kiln's code, on one line. */
    public static String describe(Throwable t) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        String where = trace.toString().lines().filter(l -> l.contains("at dev.kiln.")).findFirst().orElse("").trim();
        return t + (where.isEmpty() ? "" : " " + where);
    }
}
