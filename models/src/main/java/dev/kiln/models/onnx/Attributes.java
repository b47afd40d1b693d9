package dev.kiln.models.onnx;

import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node's attributes by name, read with ONNX's defaults supplied by the caller. A value of the
 * wrong kind is an error naming the node and the attribute. Files of early IR versions may leave
 * an attribute's type unset, so the kind is also recognised from the field that is set.
 */
final class Attributes {
    private final Map<String, AttributeProto> byName = new LinkedHashMap<>();
    private final String where;

    Attributes(NodeProto node, String where) {
        this.where = where;
        for (AttributeProto a : node.getAttributeList()) {
            if (byName.putIfAbsent(a.getName(), a) != null) {
                throw new OnnxFormatException(where + " has attribute '" + a.getName() + "' twice");
            }
        }
    }

    boolean has(String name) {
        return byName.containsKey(name);
    }

    long getInt(String name, long defaultValue) {
        AttributeProto a = get(name, AttributeType.INT);
        return a == null ? defaultValue : a.getI();
    }

    float getFloat(String name, float defaultValue) {
        AttributeProto a = get(name, AttributeType.FLOAT);
        return a == null ? defaultValue : a.getF();
    }

    String getString(String name, String defaultValue) {
        AttributeProto a = get(name, AttributeType.STRING);
        return a == null ? defaultValue : a.getS().toString(StandardCharsets.UTF_8);
    }

    /** The integers of an INTS attribute, or null when absent. */
    long[] getInts(String name) {
        AttributeProto a = get(name, AttributeType.INTS);
        if (a == null) {
            return null;
        }
        long[] values = new long[a.getIntsCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = a.getInts(i);
        }
        return values;
    }

    /** The floats of a FLOATS attribute, or null when absent. */
    float[] getFloats(String name) {
        AttributeProto a = get(name, AttributeType.FLOATS);
        if (a == null) {
            return null;
        }
        float[] values = new float[a.getFloatsCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = a.getFloats(i);
        }
        return values;
    }

    TensorProto getTensor(String name) {
        AttributeProto a = get(name, AttributeType.TENSOR);
        return a == null ? null : a.getT();
    }

    /** Names of the attributes present, for ops whose form depends on which one is given (Constant). */
    Iterable<String> names() {
        return byName.keySet();
    }

    private AttributeProto get(String name, AttributeType expected) {
        AttributeProto a = byName.get(name);
        if (a == null) {
            return null;
        }
        AttributeType actual = a.getType() == AttributeType.UNDEFINED ? kindOf(a) : a.getType();
        boolean emptyList = actual == AttributeType.UNDEFINED
                && (expected == AttributeType.INTS || expected == AttributeType.FLOATS);
        if (actual != expected && !emptyList) {
            throw new OnnxFormatException(where + ": attribute '" + name + "' must be " + expected + ", got " + actual);
        }
        return a;
    }

    private static AttributeType kindOf(AttributeProto a) {
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
