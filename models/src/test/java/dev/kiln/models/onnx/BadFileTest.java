package dev.kiln.models.onnx;

import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.kiln.models.onnx.TestModel.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files Kiln cannot load get an OnnxFormatException that names the file, the problem and where. */
class BadFileTest {
    @TempDir
    Path dir;

    private static void assertMentions(OnnxFormatException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in: " + e.getMessage());
        }
    }

    private OnnxFormatException loadFails(Path file) {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(file));
        assertMentions(e, file.getFileName().toString());
        return e;
    }

    private static TestModel relu() {
        return TestModel.opset(13).input("x", 1, 4).initializer("w", new int[] {4}, 1, 2, 3, 4).output("y")
                .node("Add", List.of("x", "w"), List.of("a")).node("Relu", List.of("a"), List.of("y"));
    }

    @Test
    void aMissingFile() {
        assertMentions(loadFails(dir.resolve("absent.onnx")), "does not exist");
    }

    @Test
    void anEmptyFile() throws IOException {
        assertMentions(loadFails(Files.write(dir.resolve("empty.onnx"), new byte[0])), "empty");
    }

    @Test
    void aFileThatIsNotAProtobuf() throws IOException {
        // 0xFF bytes make an invalid tag; plain text happens to decode as protobuf fields, but holds no graph.
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0xFF);
        assertMentions(loadFails(Files.write(dir.resolve("garbage.onnx"), garbage)), "not a valid ONNX file");
        Path text = Files.writeString(dir.resolve("text.onnx"), "hello, this is not a model", StandardCharsets.UTF_8);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(text));
        assertMentions(e, "text.onnx", "not");
        assertThrows(OnnxFormatException.class, () -> OnnxImporter.inspect(text));
    }

    @Test
    void aTruncatedFile() throws IOException {
        byte[] whole = relu().build().toByteArray();
        Path cut = Files.write(dir.resolve("cut.onnx"), Arrays.copyOf(whole, whole.length - 20));
        assertMentions(loadFails(cut), "truncated");
        assertThrows(OnnxFormatException.class, () -> OnnxImporter.inspect(cut));
    }

    @Test
    void anUnknownOpIsNamedWithItsNodeAndOpset() {
        Path file = TestModel.opset(13).input("x", 1, 4).output("y")
                .node(NodeProto.newBuilder().setName("act").setOpType("Elu").addInput("x").addOutput("y").build())
                .save(dir.resolve("elu.onnx"));
        assertMentions(loadFails(file), "'act'", "Elu", "opset 13");
        assertEquals(List.of("Elu"), OnnxImporter.inspect(file).unsupportedOps());
    }

    @Test
    void anOpOfAnotherDomain() {
        Path file = TestModel.opset(13).input("x", 1, 4).output("y")
                .node(NodeProto.newBuilder().setName("f").setOpType("FusedGemm").setDomain("com.microsoft")
                        .addInput("x").addOutput("y").build())
                .save(dir.resolve("ms.onnx"));
        assertMentions(loadFails(file), "'f'", "FusedGemm", "com.microsoft");
        assertEquals(List.of("com.microsoft.FusedGemm"), OnnxImporter.inspect(file).unsupportedOps());
    }

    @Test
    void anOpsetNewerThanTheImporterKnows() {
        Path file = TestModel.opset(19).input("x", 1, 4).output("y").node("Relu", List.of("x"), List.of("y"))
                .save(dir.resolve("opset19.onnx"));
        assertMentions(loadFails(file), "opset 19", "18");
    }

    @Test
    void aDanglingInputIsNamed() {
        Path file = TestModel.opset(13).input("x", 1, 4).output("y").node("Add", List.of("x", "nowhere"), List.of("y"))
                .save(dir.resolve("dangling.onnx"));
        assertMentions(loadFails(file), "'nowhere'", "add0");
    }

    @Test
    void aCycleIsNamed() {
        Path file = TestModel.opset(13).input("x", 1, 4).output("y")
                .node("Add", List.of("x", "b"), List.of("a"))
                .node("Relu", List.of("a"), List.of("b"))
                .node("Relu", List.of("b"), List.of("y"))
                .save(dir.resolve("cycle.onnx"));
        assertMentions(loadFails(file), "cycle", "add0", "relu1");
    }

    @Test
    void anUndefinedGraphOutput() {
        Path file = TestModel.opset(13).input("x", 1, 4).output("y").output("z").node("Relu", List.of("x"), List.of("y"))
                .save(dir.resolve("output.onnx"));
        assertMentions(loadFails(file), "'z'");
    }

    @Test
    void nonFloatGraphInputsAndOutputs() {
        Path in = TestModel.opset(13).input("x", DataType.INT32, 1, 4).output("y").node("Relu", List.of("x"), List.of("y"))
                .save(dir.resolve("int-input.onnx"));
        assertMentions(loadFails(in), "'x'", "INT32");
        assertEquals(List.of("INT32 data", "INT32 graph input"), OnnxImporter.inspect(in).unsupportedOps());
        Path out = TestModel.opset(13).input("x", 1, 4).output("y", DataType.BOOL, 1, 4)
                .node("Relu", List.of("x"), List.of("y")).save(dir.resolve("bool-output.onnx"));
        assertMentions(loadFails(out), "'y'", "BOOL");
    }

    @Test
    void aGraphInputWithoutAShape() throws IOException {
        // An input with a type but no shape: Kiln needs at least the rank.
        ModelProto.Builder model = TestModel.opset(13).output("y").build().toBuilder();
        model.getGraphBuilder()
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE))))
                .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"));
        Path file = Files.write(dir.resolve("no-shape.onnx"), model.build().toByteArray());
        assertMentions(loadFails(file), "'x'", "no shape");
    }

    @Test
    void invalidAttributesAreNamed() {
        Path missing = TestModel.opset(13).input("x", 1, 1, 4, 4).output("y").node("MaxPool", List.of("x"), List.of("y"))
                .save(dir.resolve("no-kernel.onnx"));
        assertMentions(loadFails(missing), "maxpool0", "kernel_shape");
        Path zero = TestModel.opset(13).input("x", 1, 1, 4, 4).output("y")
                .node("MaxPool", List.of("x"), List.of("y"), ints("kernel_shape", 0, 2)).save(dir.resolve("zero.onnx"));
        assertMentions(loadFails(zero), "maxpool0", "kernel");
        Path wrongLength = TestModel.opset(13).input("x", 1, 1, 4, 4).output("y")
                .node("MaxPool", List.of("x"), List.of("y"), ints("kernel_shape", 2, 2), ints("strides", 1))
                .save(dir.resolve("strides.onnx"));
        assertMentions(loadFails(wrongLength), "maxpool0", "strides");
    }

    @Test
    void shapesThatDoNotFitAreNamed() {
        Path file = TestModel.opset(13).input("x", 1, 3, 4, 4).initializer("w", new int[] {2, 2, 1, 1}, 1, 2, 3, 4)
                .output("y").node("Conv", List.of("x", "w"), List.of("y")).save(dir.resolve("channels.onnx"));
        assertMentions(loadFails(file), "conv0", "channels");
    }
}
