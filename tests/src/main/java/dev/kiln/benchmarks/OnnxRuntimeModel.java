package dev.kiln.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.kiln.Shape;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The peer every speed target is a ratio against: an ONNX Runtime session (CPU provider, graph
 * optimization ALL, {@code threads} intra-op threads) on an export, with its one input prepared
 * at a batch size, ready to run many times.
 */
final class OnnxRuntimeModel implements AutoCloseable {
    private final OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    private final OrtSession session;
    private final OnnxTensor input;
    private final String inputName;

    OnnxRuntimeModel(Path file, int batch, int threads) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        options.setIntraOpNumThreads(threads);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(file.toString(), options);
        inputName = session.getInputNames().iterator().next();
        long[] shape = ((TensorInfo) session.getInputInfo().get(inputName).getInfo()).getShape();
        shape[0] = batch; // the exports' batch axis is symbolic (-1)
        float[] values = BenchmarkInput.standardNormal(
                Shape.of(Arrays.stream(shape).mapToInt(Math::toIntExact).toArray()));
        input = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
    }

    void run() throws OrtException {
        try (OrtSession.Result ignored = session.run(Map.of(inputName, input))) {
            // the outputs are freed with the result
        }
    }

    @Override
    public void close() throws OrtException {
        input.close();
        session.close();
        options.close();
    }
}
