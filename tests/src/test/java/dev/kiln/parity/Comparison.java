package dev.kiln.parity;

import dev.kiln.CompiledModel;
import dev.kiln.Tensor;
import dev.kiln.models.io.Npy;

import java.io.IOException;
import java.util.Map;

/**
 * One run of a compiled model on a fixture input, compared with PyTorch's output for it.
 *
 * @param relativeDifference see {@link RelativeDifference}
 * @param runSeconds         the run's wall time, for the report
 */
record Comparison(double relativeDifference, double runSeconds) {

    /** Runs {@code compiled} on the model's batch-{@code batch} input and compares the output with PyTorch's. */
    static Comparison run(ParityFixtures fixtures, CompiledModel compiled, String model, int batch)
            throws IOException {
        try (Tensor input = Npy.read(fixtures.input(model, batch));
             Tensor expected = Npy.read(fixtures.expectedOutput(model, batch))) {
            long started = System.nanoTime();
            Map<String, Tensor> outputs = compiled.run(Map.of(compiled.inputs().getFirst().name(), input));
            double runSeconds = (System.nanoTime() - started) / 1e9;
            try {
                return new Comparison(RelativeDifference.of(outputs.get(compiled.outputs().getFirst()), expected),
                        runSeconds);
            } finally {
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    boolean withinTolerance() {
        return relativeDifference <= RelativeDifference.TOLERANCE; // false for NaN
    }
}
