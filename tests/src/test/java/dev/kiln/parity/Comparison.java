package dev.kiln.parity;

import dev.kiln.CompiledModel;
import dev.kiln.Tensor;
import dev.kiln.models.io.Npy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * One run of a compiled model on a fixture input, compared with PyTorch's output for it and, for a
 * model imported from one of PyTorch's exports, with ONNX Runtime's output for the same file.
 *
 * @param relativeDifference            from PyTorch's output; see {@link RelativeDifference}
 * @param onnxRuntimeRelativeDifference from ONNX Runtime's output on the same file, if compared
 * @param runSeconds                    the run's wall time, for the report
 */
record Comparison(double relativeDifference, OptionalDouble onnxRuntimeRelativeDifference, double runSeconds) {

    /** Runs {@code compiled} on the model's batch-{@code batch} input and compares the output with PyTorch's. */
    static Comparison run(ParityFixtures fixtures, CompiledModel compiled, String model, int batch)
            throws IOException {
        return run(fixtures, compiled, model, batch, null, null);
    }

    /**
     * As {@link #run(ParityFixtures, CompiledModel, String, int)}, and compares the output with
     * ONNX Runtime's for {@code file}, the export {@code compiled} was imported from.
     */
    static Comparison run(ParityFixtures fixtures, CompiledModel compiled, String model, int batch,
                          OnnxRuntimeOracle onnxRuntime, Path file) throws IOException {
        try (Tensor input = Npy.read(fixtures.input(model, batch));
             Tensor expected = Npy.read(fixtures.expectedOutput(model, batch))) {
            long started = System.nanoTime();
            Map<String, Tensor> outputs = compiled.run(Map.of(compiled.inputs().getFirst().name(), input));
            double runSeconds = (System.nanoTime() - started) / 1e9;
            try {
                Tensor output = outputs.get(compiled.outputNames().getFirst());
                OptionalDouble fromOnnxRuntime = onnxRuntime == null ? OptionalDouble.empty()
                        : OptionalDouble.of(RelativeDifference.of(output.toFloatArray(),
                        onnxRuntime.output(file, batch, input, expected).values()));
                return new Comparison(RelativeDifference.of(output, expected), fromOnnxRuntime, runSeconds);
            } finally {
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    boolean withinTolerance() {
        return relativeDifference <= RelativeDifference.TOLERANCE // false for NaN
                && (onnxRuntimeRelativeDifference.isEmpty()
                || onnxRuntimeRelativeDifference.getAsDouble() <= RelativeDifference.TOLERANCE);
    }

    /** The differences, as the tests print and report them. */
    String differences() {
        return String.format("relative difference %.2e", relativeDifference)
                + (onnxRuntimeRelativeDifference.isPresent()
                ? String.format(", from ONNX Runtime %.2e", onnxRuntimeRelativeDifference.getAsDouble()) : "");
    }
}
