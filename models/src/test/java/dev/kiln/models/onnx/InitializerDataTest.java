package dev.kiln.models.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where initializer data can be (raw_data, typed fields, external files) and how each is checked. */
class InitializerDataTest {
    @TempDir
    Path dir;

    /** y = x + w with w [2, 2] = 1, 2, 3, 4, given as {@code w}. */
    private Path addModel(TensorProto w) {
        return TestModel.opset(13).input("x", 2, 2).initializer(w).output("y")
                .node("Add", List.of("x", "w"), List.of("y")).save(dir.resolve("model.onnx"));
    }

    private static float[] loadAndRun(Path model) {
        try (Graph g = OnnxImporter.load(model)) {
            return Runs.run(g, Shape.of(2, 2), 0, 0, 0, 0).values();
        }
    }

    @Test
    void rawDataAndTypedFloatsGiveTheSameWeights() {
        float[] expected = {1, 2, 3, 4};
        assertArrayEquals(expected, loadAndRun(addModel(TestModel.rawFloats("w", new int[] {2, 2}, 1, 2, 3, 4))));
        assertArrayEquals(expected, loadAndRun(addModel(TestModel.typedFloats("w", new int[] {2, 2}, 1, 2, 3, 4))));
    }

    @Test
    void integerShapesInTypedFields() {
        for (DataType type : List.of(DataType.INT64, DataType.INT32)) {
            TensorProto.Builder shape = TensorProto.newBuilder().setName("s").setDataType(type.getNumber()).addDims(2);
            if (type == DataType.INT64) {
                shape.addInt64Data(4).addInt64Data(-1);
            } else {
                shape.addInt32Data(4).addInt32Data(-1);
            }
            Path model = TestModel.opset(13).input("x", 2, 2).initializer(shape.build()).output("y")
                    .node("Reshape", List.of("x", "s"), List.of("y")).save(dir.resolve("reshape.onnx"));
            try (Graph g = OnnxImporter.load(model)) {
                assertEquals(Shape.of(4, 1), Runs.run(g, Shape.of(2, 2), 1, 2, 3, 4).shape(), type.toString());
            }
        }
    }

    @Test
    void nonFloatWeightsAreRefusedNamingTheTensorAndType() {
        TensorProto doubles = TensorProto.newBuilder().setName("w").setDataType(DataType.DOUBLE_VALUE).addDims(2)
                .addDims(2).addDoubleData(1).addDoubleData(2).addDoubleData(3).addDoubleData(4).build();
        Path model = addModel(doubles);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(model));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("DOUBLE"), e.getMessage());
        assertEquals(List.of("DOUBLE data"), OnnxImporter.inspect(model).unsupportedOps());
    }

    private static ByteString littleEndian(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return ByteString.copyFrom(b.array());
    }

    private static TensorProto external(String location, Long offset, Long length) {
        TensorProto.Builder t = TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE).addDims(2)
                .addDims(2).setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        if (offset != null) {
            t.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(offset.toString()));
        }
        if (length != null) {
            t.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(length.toString()));
        }
        return t.build();
    }

    @Test
    void externalDataIsReadFromAFileBesideTheModelAtItsOffset() throws IOException {
        Files.createDirectories(dir.resolve("weights"));
        // 8 bytes of something else, then the tensor's 16 bytes.
        byte[] data = littleEndian(-9, -9, 1, 2, 3, 4).toByteArray();
        Files.write(dir.resolve("weights/model.bin"), data);
        assertArrayEquals(new float[] {1, 2, 3, 4}, loadAndRun(addModel(external("weights/model.bin", 8L, 16L))));
        Files.write(dir.resolve("plain.bin"), littleEndian(1, 2, 3, 4).toByteArray());
        assertArrayEquals(new float[] {1, 2, 3, 4}, loadAndRun(addModel(external("plain.bin", null, null))));
    }

    @Test
    void externalDataOutsideTheModelsFolderIsRefused() throws IOException {
        Path modelDir = Files.createDirectories(dir.resolve("model"));
        Path secret = Files.write(dir.resolve("secret.bin"), littleEndian(1, 2, 3, 4).toByteArray());
        for (String location : List.of("../secret.bin", secret.toString(), "sub/../../secret.bin")) {
            Path model = TestModel.opset(13).input("x", 2, 2).initializer(external(location, null, null)).output("y")
                    .node("Add", List.of("x", "w"), List.of("y")).save(modelDir.resolve("model.onnx"));
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(model), location);
            assertTrue(e.getMessage().contains("outside the model's folder") && e.getMessage().contains("'w'"),
                    e.getMessage());
        }
        // A symbolic link inside the folder that points out is refused too.
        Files.createSymbolicLink(modelDir.resolve("link.bin"), secret);
        Path model = TestModel.opset(13).input("x", 2, 2).initializer(external("link.bin", null, null)).output("y")
                .node("Add", List.of("x", "w"), List.of("y")).save(modelDir.resolve("model.onnx"));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(model));
        assertTrue(e.getMessage().contains("outside the model's folder"), e.getMessage());
    }

    @Test
    void externalDataThatIsMissingOrShortIsRefusedBeforeReading() throws IOException {
        Files.write(dir.resolve("short.bin"), littleEndian(1, 2, 3).toByteArray());
        assertMessage(addModel(external("missing.bin", null, null)), "does not exist");
        assertMessage(addModel(external("short.bin", null, null)), "has only 12 bytes");
        assertMessage(addModel(external("short.bin", 8L, null)), "at offset 8");
        assertMessage(addModel(external("short.bin", null, 12L)), "declares 12 bytes");
    }

    @Test
    void dataThatDoesNotMatchTheDimsIsRefused() {
        assertMessage(addModel(TestModel.rawFloats("w", new int[] {2, 2}, 1, 2, 3)), "raw_data holds 12 bytes");
        assertMessage(addModel(TestModel.typedFloats("w", new int[] {2, 2}, 1, 2, 3)), "holds 3 values");
        assertMessage(addModel(TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE).addDims(2)
                .addDims(2).build()), "(no data)");
    }

    @Test
    void aTinyFileDeclaringAHugeTensorIsRefusedBeforeAnyAllocation() {
        // 4 bytes of data for a declared 8 TB tensor, for dims too large for Kiln's shapes, and for a
        // size that overflows a long.
        TensorProto huge = TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE)
                .addDims(1L << 31).addDims(1L << 31).setRawData(littleEndian(1)).build();
        assertMessage(addModel(huge), "dimension 2147483648");
        TensorProto large = TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE)
                .addDims(Integer.MAX_VALUE).addDims(1000).setRawData(littleEndian(1)).build();
        assertMessage(addModel(large), "raw_data holds 4 bytes");
        TensorProto overflow = TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE)
                .addDims(Integer.MAX_VALUE).addDims(Integer.MAX_VALUE).addDims(Integer.MAX_VALUE)
                .setRawData(littleEndian(1)).build();
        assertMessage(addModel(overflow), "more");
    }

    private static void assertMessage(Path model, String expected) {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(model));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("initializer 'w'"),
                () -> "expected '" + expected + "' and the tensor's name in: " + e.getMessage());
    }
}
