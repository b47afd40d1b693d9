package dev.kiln.models.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's ONNX attributes as {@link OpAttributes}, the view an {@link dev.kiln.spi.OpProvider}
 * reads without ONNX's protobuf classes, and back for the exporter. Tensors become floats with
 * their shapes (integer tensors converted); graph and sparse-tensor attributes have no Kiln form
 * and are refused naming the attribute.
 */
final class OnnxAttributeView {
    private OnnxAttributeView() {
    }

    /** @throws OnnxFormatException naming {@code where} and the attribute that has no Kiln form */
    static OpAttributes read(NodeProto node, String where, Path folder) {
        OpAttributes attributes = OpAttributes.empty();
        for (AttributeProto a : node.getAttributeList()) {
            if (attributes.has(a.getName())) {
                throw new OnnxFormatException(where + " has attribute '" + a.getName() + "' twice");
            }
            String what = where + ": attribute '" + a.getName() + "'";
            attributes = switch (kindOf(a)) {
                case INT -> attributes.with(a.getName(), a.getI());
                case FLOAT -> attributes.with(a.getName(), a.getF());
                case STRING -> attributes.with(a.getName(), a.getS().toString(StandardCharsets.UTF_8));
                case INTS -> attributes.withInts(a.getName(), a.getIntsList().stream().mapToLong(Long::longValue)
                        .toArray());
                case FLOATS -> {
                    float[] f = new float[a.getFloatsCount()];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = a.getFloats(i);
                    }
                    yield attributes.withFloats(a.getName(), f);
                }
                case TENSOR -> {
                    TensorData t = TensorData.of(a.getT(), what, folder);
                    float[] values;
                    if (t.type() == DataType.FLOAT) {
                        values = t.floats();
                    } else if (TensorData.isInteger(t.type())) {
                        long[] l = t.longs();
                        values = new float[l.length];
                        for (int i = 0; i < l.length; i++) {
                            values[i] = l[i];
                        }
                    } else {
                        throw new OnnxFormatException(what + " is a " + t.type() + " tensor; Kiln reads float and"
                                + " integer tensor attributes only");
                    }
                    yield attributes.withTensor(a.getName(), t.shape(), values);
                }
                default -> throw new OnnxFormatException(what + " is of type " + kindOf(a)
                        + ", which Kiln cannot hand to an op provider (ints, floats, strings, int and float lists,"
                        + " tensors only)");
            };
        }
        return attributes;
    }

    /** The attributes as ONNX writes them. */
    static List<AttributeProto> write(OpAttributes attributes) {
        List<AttributeProto> out = new ArrayList<>();
        for (String name : attributes.names()) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
            switch (attributes.kind(name)) {
                case INT -> a.setType(AttributeType.INT).setI(attributes.getInt(name, 0));
                case FLOAT -> a.setType(AttributeType.FLOAT).setF(attributes.getFloat(name, 0));
                case STRING -> a.setType(AttributeType.STRING).setS(ByteString.copyFromUtf8(
                        attributes.getString(name, "")));
                case INTS -> {
                    a.setType(AttributeType.INTS);
                    for (long v : attributes.getInts(name)) {
                        a.addInts(v);
                    }
                }
                case FLOATS -> {
                    a.setType(AttributeType.FLOATS);
                    for (float v : attributes.getFloats(name)) {
                        a.addFloats(v);
                    }
                }
                case TENSOR -> a.setType(AttributeType.TENSOR).setT(tensor(name, attributes.getTensor(name)));
            }
            out.add(a.build());
        }
        return out;
    }

    private static TensorProto tensor(String name, OpAttributes.TensorValue t) {
        float[] values = t.values();
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        TensorProto.Builder p = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (int d : t.shape().dims()) {
            p.addDims(d);
        }
        return p.build();
    }

    /** The attribute's type; files of early IR versions may leave it unset, so also from the field that is set. */
    private static AttributeType kindOf(AttributeProto a) {
        if (a.getType() != AttributeType.UNDEFINED) {
            return a.getType();
        }
        if (a.hasF()) {
            return AttributeType.FLOAT;
        }
        if (a.hasI()) {
            return AttributeType.INT;
        }
        if (a.hasS()) {
            return AttributeType.STRING;
        }
        if (a.hasT()) {
            return AttributeType.TENSOR;
        }
        if (a.getFloatsCount() > 0) {
            return AttributeType.FLOATS;
        }
        if (a.getIntsCount() > 0) {
            return AttributeType.INTS;
        }
        return AttributeType.UNDEFINED;
    }
}
