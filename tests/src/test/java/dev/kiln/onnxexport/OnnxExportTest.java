package dev.kiln.onnxexport;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.Case;
import dev.kiln.conformance.ModelCases;
import dev.kiln.conformance.Tolerance;
import dev.kiln.graph.Graph;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each of the six networks, optimized (so the fused forms are exported: convolutions with
 * batch-norm, activation and residual epilogues, squeeze-excitation, SiLU), written as ONNX,
 * run by ONNX Runtime and by Kiln after importing the file again: both match Kiln's own output
 * within the network's conformance tolerance. At the reduced resolution of the model cases, batch 1.
 */
class OnnxExportTest {
    private static final Engine ENGINE = Engine.create();

    @TempDir
    Path dir;

    static List<ModelSpec> networks() {
        return Models.representatives();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void onnxRuntimeAndKilnRunTheExportToTheSameOutputs(ModelSpec spec) throws Exception {
        Case c = ModelCases.reduced(spec, 1);
        try (Graph graph = c.buildGraph()) {
            OptimizationReport optimized = new Optimizer().optimize(graph);
            try (Graph fused = optimized.graph()) {
                assertTrue(optimized.totalRewrites() > 0, "the export should see fused forms");
                Path file = dir.resolve(spec.name() + ".onnx");
                OnnxExporter.write(fused, file);
                Map<String, Tensor> inputs = c.inputs(graph);
                String input = graph.inputs().getFirst().name();
                try {
                    float[] expected = runKiln(graph, inputs);
                    float[] ort = runOnnxRuntime(file, input, inputs.get(input));
                    assertWithin(c.tolerance(), expected, ort, spec + " on ONNX Runtime");
                    try (Graph imported = OnnxImporter.load(file)) {
                        assertFalse(imported.opCounts().containsKey("SqueezeExcitation"),
                                "the file holds standard ops only: " + imported.opCounts());
                        float[] reimported = runKiln(imported, inputs);
                        assertWithin(c.tolerance(), expected, reimported, spec + " imported again");
                    }
                } finally {
                    inputs.values().forEach(Tensor::close);
                }
            }
        }
    }

    private static float[] runKiln(Graph graph, Map<String, Tensor> inputs) {
        try (CompiledModel model = ENGINE.compile(graph, "cpu-simd")) {
            Map<String, Tensor> out = model.run(inputs);
            try {
                return out.get(graph.outputs().getFirst()).toFloatArray();
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    private static float[] runOnnxRuntime(Path file, String inputName, Tensor input) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(file.toString(), options);
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.toFloatArray()),
                     Arrays.stream(input.shape().dims()).asLongStream().toArray());
             OrtSession.Result result = session.run(Map.of(inputName, x))) {
            FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] values = new float[y.remaining()];
            y.get(values);
            return values;
        }
    }

    private static void assertWithin(Tolerance tolerance, float[] expected, float[] actual, String what) {
        Tolerance.Comparison c = tolerance.compare(actual, expected);
        assertTrue(c.passed(), what + ": " + c + "; tolerance " + tolerance);
    }
}
