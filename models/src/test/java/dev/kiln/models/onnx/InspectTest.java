package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kiln.models.onnx.TestModel.attr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What inspection reports, and what loading gives for the same files: inputs, outputs, counts. */
class InspectTest {
    @TempDir
    Path dir;

    /** A small network: conv, batch-norm, ReLU6 with Constant bounds, global pool, flatten, FC. */
    private Path network() {
        return TestModel.opset(13).input("image", -1, 2, 4, 4)
                .initializer("conv.w", new int[] {3, 2, 3, 3}, Runs.values(54, 1))
                .initializer("bn.scale", new int[] {3}, 1, 1, 1).initializer("bn.bias", new int[] {3}, 0, 0, 0)
                .initializer("bn.mean", new int[] {3}, 0, 0, 0).initializer("bn.var", new int[] {3}, 1, 1, 1)
                .initializer("fc.w", new int[] {5, 3}, Runs.values(15, 2)).initializer("fc.b", new int[] {5}, Runs.values(5, 3))
                .output("logits", dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType.FLOAT, -1, 5)
                .node("Conv", List.of("image", "conv.w"), List.of("c"), TestModel.ints("pads", 1, 1, 1, 1))
                .node("BatchNormalization", List.of("c", "bn.scale", "bn.bias", "bn.mean", "bn.var"), List.of("b"))
                .node("Constant", List.of(), List.of("zero"), attr("value_float", 0f))
                .node("Constant", List.of(), List.of("six"), attr("value_float", 6f))
                .node("Clip", List.of("b", "zero", "six"), List.of("r"))
                .node("GlobalAveragePool", List.of("r"), List.of("p"))
                .node("Flatten", List.of("p"), List.of("f"))
                .node("Gemm", List.of("f", "fc.w", "fc.b"), List.of("logits"), attr("transB", 1L))
                .save(dir.resolve("net.onnx"));
    }

    @Test
    void summaryOfASupportedModel() {
        OnnxSummary s = OnnxImporter.inspect(network());
        assertEquals(8, s.irVersion());
        assertEquals(Map.of("", 13L), s.opsets());
        assertEquals("kiln-test 1", s.producer());
        assertEquals(List.of(new ValueInfo("image", Shape.of(-1, 2, 4, 4))), s.inputs());
        assertEquals(List.of(new ValueInfo("logits", Shape.of(-1, 5))), s.outputs());
        assertEquals(List.of("Conv", "BatchNormalization", "Constant", "Clip", "GlobalAveragePool", "Flatten", "Gemm"),
                List.copyOf(s.opCounts().keySet()));
        assertEquals(2, s.opCounts().get("Constant"));
        // conv 54 + bn scale and bias 6 + fc 15 + 5; not the running statistics nor Clip's bounds.
        assertEquals(54 + 6 + 15 + 5, s.parameterCount());
        assertTrue(s.isSupported(), () -> s.unsupportedOps().toString());
    }

    @Test
    void loadingTheSameModelAgrees() {
        Path file = network();
        OnnxSummary s = OnnxImporter.inspect(file);
        try (Graph g = OnnxImporter.load(file)) {
            assertEquals(s.inputs(), g.inputs());
            assertEquals(List.of("logits"), g.outputs());
            assertEquals(s.parameterCount(), g.parameterCount());
            assertEquals(Map.of("Conv", 1, "BatchNormalization", 1, "Clip", 1, "GlobalAveragePool", 1, "Flatten", 1,
                    "Gemm", 1), g.opCounts());
            for (int batch : new int[] {1, 3}) {
                assertEquals(Shape.of(batch, 5), Runs.run(g, Shape.of(batch, 2, 4, 4), new float[batch * 32]).shape());
            }
        }
    }

    @Test
    void everyProblemIsListedOnceAndInspectionGoesOn() {
        // Two unknown ops, a 3-D pool, and nodes after them that read their outputs.
        Path file = TestModel.opset(13).input("x", 1, 4).input("v", 1, 1, 2, 2, 2).output("y").output("z")
                .node("Elu", List.of("x"), List.of("e1"))
                .node("Elu", List.of("e1"), List.of("e2"))
                .node("Softsign", List.of("e2"), List.of("s"))
                .node("Relu", List.of("s"), List.of("y"))
                .node("MaxPool", List.of("v"), List.of("z"), TestModel.ints("kernel_shape", 2, 2, 2))
                .save(dir.resolve("several.onnx"));
        OnnxSummary s = OnnxImporter.inspect(file);
        assertEquals(List.of("Elu", "MaxPool (3-D)", "Softsign"), s.unsupportedOps());
        assertFalse(s.isSupported());
        assertEquals(Map.of("Elu", 2, "Softsign", 1, "Relu", 1, "MaxPool", 1), s.opCounts());
    }

    @Test
    void opsetsOfOtherDomainsAndUnnamedNodes() throws IOException {
        ModelProto model = TestModel.opset(17).input("x", 2).output("y").node(NodeProto.newBuilder().setOpType("Relu")
                .addInput("x").addOutput("y").build()).build().toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(3)).build();
        Path file = Files.write(dir.resolve("domains.onnx"), model.toByteArray());
        assertEquals(Map.of("", 17L, "ai.onnx.ml", 3L), OnnxImporter.inspect(file).opsets());
        try (Graph g = OnnxImporter.load(file)) {
            assertEquals("Relu_0", g.nodes().getFirst().name());
        }
    }

    @Test
    void initializersListedAsGraphInputsAreNotInputs() {
        // IR 3 files list every initializer among the graph inputs too.
        Path file = TestModel.opset(9).input("x", 2).input("w", 2).initializer("w", new int[] {2}, 1, 2).output("y")
                .node("Add", List.of("x", "w"), List.of("y")).save(dir.resolve("ir3.onnx"));
        assertEquals(List.of(new ValueInfo("x", Shape.of(2))), OnnxImporter.inspect(file).inputs());
        try (Graph g = OnnxImporter.load(file)) {
            assertEquals(List.of(new ValueInfo("x", Shape.of(2))), g.inputs());
            assertArrayEquals(new float[] {1, 3}, Runs.run(g, Shape.of(2), 0, 1).values());
        }
    }

    @Test
    void tensorFilesReadAsOnnxTestDataStoresThem() throws IOException {
        TensorProto proto = TestModel.rawFloats("input_0", new int[] {2, 1}, 1.5f, -2f);
        Path file = Files.write(dir.resolve("input_0.pb"), proto.toByteArray());
        assertEquals("input_0", OnnxTensors.name(file));
        try (Tensor t = OnnxTensors.read(file)) {
            assertEquals(Shape.of(2, 1), t.shape());
            assertArrayEquals(new float[] {1.5f, -2f}, t.toFloatArray());
        }
        Path ints = Files.write(dir.resolve("ints.pb"), TensorProto.newBuilder().setDataType(
                TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(3).build().toByteArray());
        OnnxFormatException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class,
                () -> OnnxTensors.read(ints));
        assertTrue(e.getMessage().contains("INT64"), e.getMessage());
    }
}
