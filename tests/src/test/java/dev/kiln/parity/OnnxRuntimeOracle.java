package dev.kiln.parity;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.Tensor;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * ONNX Runtime as a second oracle on PyTorch's exports: its output for the same ONNX file and the
 * same input that a backend ran, so that a backend's difference from PyTorch can be told apart from
 * a difference in what the file says (an exporter's rewrite, an attribute read two ways): where
 * Kiln and ONNX Runtime agree on the file but not with PyTorch, the file is the suspect.
 *
 * <p>ONNX Runtime computes in float32, so it is checked against PyTorch's float64 output first,
 * with the same {@link RelativeDifference#TOLERANCE}: an oracle that missed that bound would make
 * every comparison with it meaningless.
 *
 * <p>The parity tests walk one file at a time through every backend and batch size, so one session
 * is kept open, for the file last asked about (creating one for VGG-16 reads 550 MB), and outputs are
 * kept per file and batch (a few thousand floats each) for the next backend.
 */
final class OnnxRuntimeOracle implements AutoCloseable {
    /** ONNX Runtime's output, and how far it is from PyTorch's for the same input. */
    record Output(float[] values, double differenceFromPyTorch) {
    }

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final Map<String, Output> outputs = new HashMap<>();
    private Path sessionFile;
    private OrtSession session;

    /**
     * ONNX Runtime's output for {@code file} on {@code input} (the fixture input of this batch
     * size); fails if it is not within {@link RelativeDifference#TOLERANCE} of {@code pyTorch}.
     */
    Output output(Path file, int batch, Tensor input, Tensor pyTorch) {
        String key = file.toAbsolutePath() + " batch " + batch;
        Output known = outputs.get(key);
        if (known != null) {
            return known;
        }
        long started = System.nanoTime();
        float[] values = run(file, input);
        double difference = RelativeDifference.of(values, pyTorch.toFloatArray());
        String name = file.getParent().getFileName() + "/" + file.getFileName();
        System.out.printf("parity oracle: ONNX Runtime on %s batch %d: relative difference from PyTorch %.2e"
                + " (%.2f s, with its session if new)%n", name, batch, difference, (System.nanoTime() - started) / 1e9);
        if (!(difference <= RelativeDifference.TOLERANCE)) {
            throw new AssertionError("ONNX Runtime's output for " + file + " at batch " + batch + " differs from "
                    + "PyTorch's by " + difference + " of the largest output (more than "
                    + RelativeDifference.TOLERANCE + "): the file does not say what PyTorch computed");
        }
        Output output = new Output(values, difference);
        outputs.put(key, output);
        return output;
    }

    private float[] run(Path file, Tensor input) {
        try {
            if (!file.equals(sessionFile)) {
                closeSession();
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                    session = environment.createSession(file.toString(), options);
                }
                sessionFile = file;
            }
            String inputName = session.getInputNames().iterator().next();
            try (OnnxTensor x = OnnxTensor.createTensor(environment, FloatBuffer.wrap(input.toFloatArray()),
                    Arrays.stream(input.shape().dims()).asLongStream().toArray());
                 OrtSession.Result result = session.run(Map.of(inputName, x))) {
                FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[] values = new float[y.remaining()];
                y.get(values);
                return values;
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime cannot run " + file + ": " + e.getMessage(), e);
        }
    }

    private void closeSession() throws OrtException {
        if (session != null) {
            session.close();
            session = null;
            sessionFile = null;
        }
    }

    @Override
    public void close() {
        try {
            closeSession();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close ONNX Runtime's session for " + sessionFile, e);
        }
    }
}
