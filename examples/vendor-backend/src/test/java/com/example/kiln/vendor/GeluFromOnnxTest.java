package com.example.kiln.vendor;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.verify.BackendVerdict;
import dev.kiln.conformance.verify.LayerwiseVerifier;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vendor's op end to end from an ONNX file: a model with {@code com.example.GELU} (written here
 * with the ONNX protobuf classes of {@code kiln-models}) loads through {@link GeluOp}, found on the
 * class path by its services line, runs on this backend with its own GELU kernel, agrees with the
 * definition and with the reference backend running the provider's reference kernel, and passes
 * layer-by-layer verification.
 */
class GeluFromOnnxTest {
    private static final Engine ENGINE = Engine.withBackends(List.of(new ReferenceBackend(), new ExampleBackend()));
    private static final Shape SHAPE = Shape.of(2, 4, 6, 6);

    @TempDir
    Path dir;

    /** x [N, 4, 6, 6] -> com.example.GELU (approximate) -> g -> GlobalAveragePool -> y [N, 4, 1, 1]. */
    private Path model(String approximate) throws IOException {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (int d : new int[]{4, 6, 6}) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        TypeProto.Tensor.Builder floats = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE);
        GraphProto graph = GraphProto.newBuilder().setName("gelu-pool")
                .addInput(ValueInfoProto.newBuilder().setName("x")
                        .setType(TypeProto.newBuilder().setTensorType(floats.clone().setShape(shape))))
                .addNode(NodeProto.newBuilder().setName("gelu").setOpType(GeluOp.NAME).setDomain(GeluOp.DOMAIN)
                        .addInput("x").addOutput("g").addAttribute(AttributeProto.newBuilder().setName("approximate")
                                .setType(AttributeProto.AttributeType.STRING)
                                .setS(com.google.protobuf.ByteString.copyFromUtf8(approximate))))
                .addNode(NodeProto.newBuilder().setName("pool").setOpType("GlobalAveragePool").addInput("g")
                        .addOutput("y"))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder().setTensorType(floats)))
                .build();
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setProducerName("example-vendor")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(GeluOp.DOMAIN).setVersion(1))
                .setGraph(graph).build();
        Path file = dir.resolve("gelu_" + approximate + ".onnx");
        Files.write(file, model.toByteArray());
        return file;
    }

    private static float[] input() {
        Random r = new Random(11);
        float[] x = new float[(int) SHAPE.elementCount()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 8 - 4;
        }
        return x;
    }

    private static float[] run(CompiledModel model, float[] x) {
        try (Tensor in = Tensor.of(SHAPE, x); Tensor out = model.run(in)) {
            assertEquals(Shape.of(2, 4, 1, 1), out.shape());
            return out.toFloatArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tanh", "none"})
    void theVendorsGeluRunsFromAnOnnxFileOnTheVendorsBackend(String approximate) throws IOException {
        Path file = model(approximate);
        float[] x = input();
        try (CompiledModel vendor = ENGINE.compile(file, CompileOptions.defaults().withBackend(ExampleBackend.ID));
             CompiledModel reference = ENGINE.compile(file, CompileOptions.defaults().withBackend(ReferenceBackend.ID))) {
            assertTrue(vendor.placements().stream().allMatch(p -> p.backend().equals(ExampleBackend.ID)),
                    vendor.placements().toString());
            float[] y = run(vendor, x);
            float[] oracle = run(reference, x);
            int area = 36;
            for (int plane = 0; plane < y.length; plane++) {
                double sum = 0;
                for (int i = plane * area; i < (plane + 1) * area; i++) {
                    sum += GeluOp.gelu(x[i], approximate.equals("tanh"));
                }
                double expected = sum / area;
                assertEquals(expected, y[plane], 2e-6 * Math.max(1, Math.abs(expected)), "plane " + plane);
                assertEquals(expected, oracle[plane], 2e-6 * Math.max(1, Math.abs(expected)), "reference, plane " + plane);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tanh", "none"})
    void layerByLayerVerificationChecksTheVendorsGeluAgainstItsReferenceKernel(String approximate) throws IOException {
        try (Graph graph = OnnxImporter.load(model(approximate));
             Tensor x = Tensor.of(SHAPE, input())) {
            ProvidedOp gelu = assertInstanceOf(ProvidedOp.class, graph.nodes().getFirst().op());
            assertEquals(approximate, gelu.attributes().getString("approximate", null));
            BackendVerdict v = new LayerwiseVerifier(ENGINE).verify(graph, Map.of("x", x), List.of(ExampleBackend.ID))
                    .verdicts().getFirst();
            assertTrue(v.passed(), () -> v.problems() + " " + v.firstDivergent());
            assertEquals(List.of(), v.notVerifiable());
            assertEquals(List.of(), v.fallbackNodes());
            assertEquals(List.of("gelu", "pool"), v.checks().stream().map(c -> c.node()).toList());
        }
    }
}
