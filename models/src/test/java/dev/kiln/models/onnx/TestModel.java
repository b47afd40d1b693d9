package dev.kiln.models.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes small ONNX models for tests with the generated protobuf classes, so that no binary
 * fixture is committed. Dims of -1 become the symbolic dim "N".
 */
final class TestModel {
    private final ModelProto.Builder model = ModelProto.newBuilder();
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");

    private TestModel(long opset) {
        model.setIrVersion(8).setProducerName("kiln-test").setProducerVersion("1")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
    }

    static TestModel opset(long version) {
        return new TestModel(version);
    }

    TestModel input(String name, int... dims) {
        return input(name, DataType.FLOAT, dims);
    }

    TestModel input(String name, DataType type, int... dims) {
        graph.addInput(valueInfo(name, type, dims));
        return this;
    }

    /** A float output with no declared shape (as many exporters leave it). */
    TestModel output(String name) {
        graph.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE))));
        return this;
    }

    TestModel output(String name, DataType type, int... dims) {
        graph.addOutput(valueInfo(name, type, dims));
        return this;
    }

    private static ValueInfoProto valueInfo(String name, DataType type, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }

    /** A float initializer in raw_data, little-endian. */
    TestModel initializer(String name, int[] dims, float... values) {
        graph.addInitializer(rawFloats(name, dims, values));
        return this;
    }

    TestModel initializer(TensorProto tensor) {
        graph.addInitializer(tensor);
        return this;
    }

    /** A 1-D int64 initializer in raw_data (a shape, pads, axes). */
    TestModel int64s(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(DataType.INT64_VALUE)
                .addDims(values.length).setRawData(ByteString.copyFrom(b.array())));
        return this;
    }

    /** A float scalar initializer (rank 0). */
    TestModel scalar(String name, float value) {
        graph.addInitializer(rawFloats(name, new int[0], value));
        return this;
    }

    TestModel node(String op, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        return node(NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase() + graph.getNodeCount())
                .addAllInput(inputs).addAllOutput(outputs).addAllAttribute(List.of(attributes)).build());
    }

    TestModel node(NodeProto node) {
        graph.addNode(node);
        return this;
    }

    ModelProto build() {
        return model.setGraph(graph).build();
    }

    Path save(Path file) {
        try {
            Files.write(file, build().toByteArray());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- tensors and attributes ----

    static TensorProto rawFloats(String name, int[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (int d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    static TensorProto typedFloats(String name, int[] dims, float... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE);
        for (int d : dims) {
            t.addDims(d);
        }
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto attr(String name, TensorProto value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(value).build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto floats(String name, float... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOATS);
        for (float v : values) {
            a.addFloats(v);
        }
        return a.build();
    }
}
