package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The attributes of a {@link ProvidedOp}, by name, as immutable values of ONNX's attribute kinds
 * without ONNX's classes: integers, floats, strings, integer lists, float lists and float tensors
 * with their shapes. The ONNX importer hands a provider the attributes a node declares in this
 * form, and the exporter writes them back. Reading an attribute as a kind it is not is an error
 * naming the attribute and both kinds.
 */
public final class OpAttributes {

    /** The kinds of value an attribute holds (ONNX's INT, FLOAT, STRING, INTS, FLOATS, TENSOR). */
    public enum Kind {
        INT, FLOAT, STRING, INTS, FLOATS, TENSOR
    }

    /** A tensor attribute: its shape and its elements, row-major, as floats. */
    public record TensorValue(Shape shape, float[] values) {
        public TensorValue {
            if (values.length != shape.elementCount()) {
                throw new IllegalArgumentException("a tensor attribute of shape " + shape + " needs "
                        + shape.elementCount() + " values, got " + values.length);
            }
            values = values.clone();
        }

        @Override
        public float[] values() {
            return values.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorValue t && t.shape.equals(shape) && Arrays.equals(t.values, values);
        }

        @Override
        public int hashCode() {
            return shape.hashCode() * 31 + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "tensor" + shape;
        }
    }

    private static final OpAttributes EMPTY = new OpAttributes(new TreeMap<>());

    /** Values by name, sorted so that equal attribute sets print alike (selection keys hash the text). */
    private final TreeMap<String, Object> values;

    private OpAttributes(TreeMap<String, Object> values) {
        this.values = values;
    }

    public static OpAttributes empty() {
        return EMPTY;
    }

    // ---- building: each with* returns a new set with that attribute set ----

    public OpAttributes with(String name, long value) {
        return put(name, value);
    }

    public OpAttributes with(String name, float value) {
        return put(name, value);
    }

    public OpAttributes with(String name, String value) {
        return put(name, value);
    }

    public OpAttributes withInts(String name, long... values) {
        return put(name, values.clone());
    }

    public OpAttributes withFloats(String name, float... values) {
        return put(name, values.clone());
    }

    public OpAttributes withTensor(String name, Shape shape, float[] values) {
        return put(name, new TensorValue(shape, values));
    }

    private OpAttributes put(String name, Object value) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("an attribute needs a name");
        }
        TreeMap<String, Object> copy = new TreeMap<>(values);
        copy.put(name, value);
        return new OpAttributes(copy);
    }

    // ---- reading ----

    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** The attribute's kind, or null when absent. */
    public Kind kind(String name) {
        Object v = values.get(name);
        return v == null ? null : kindOf(v);
    }

    public long getInt(String name, long defaultValue) {
        Object v = read(name, Kind.INT);
        return v == null ? defaultValue : (Long) v;
    }

    public float getFloat(String name, float defaultValue) {
        Object v = read(name, Kind.FLOAT);
        return v == null ? defaultValue : (Float) v;
    }

    public String getString(String name, String defaultValue) {
        Object v = read(name, Kind.STRING);
        return v == null ? defaultValue : (String) v;
    }

    /** An INTS attribute's values, or null when absent. */
    public long[] getInts(String name) {
        Object v = read(name, Kind.INTS);
        return v == null ? null : ((long[]) v).clone();
    }

    /** A FLOATS attribute's values, or null when absent. */
    public float[] getFloats(String name) {
        Object v = read(name, Kind.FLOATS);
        return v == null ? null : ((float[]) v).clone();
    }

    /** A TENSOR attribute, or null when absent. */
    public TensorValue getTensor(String name) {
        return (TensorValue) read(name, Kind.TENSOR);
    }

    /**
     * The value, or null when absent.
     *
     * @throws IllegalArgumentException naming the attribute when it holds another kind
     */
    private Object read(String name, Kind expected) {
        Object v = values.get(name);
        if (v != null && kindOf(v) != expected) {
            throw new IllegalArgumentException("attribute '" + name + "' is " + kindOf(v) + " (" + text(v)
                    + "), read as " + expected);
        }
        return v;
    }

    private static Kind kindOf(Object v) {
        return switch (v) {
            case Long l -> Kind.INT;
            case Float f -> Kind.FLOAT;
            case String s -> Kind.STRING;
            case long[] l -> Kind.INTS;
            case float[] f -> Kind.FLOATS;
            case TensorValue t -> Kind.TENSOR;
            default -> throw new IllegalStateException("not an attribute value: " + v.getClass());
        };
    }

    private static String text(Object v) {
        return switch (v) {
            case long[] l -> Arrays.toString(l);
            case float[] f -> Arrays.toString(f);
            case String s -> "\"" + s + "\"";
            default -> String.valueOf(v);
        };
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OpAttributes other) || !other.values.keySet().equals(values.keySet())) {
            return false;
        }
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (!Arrays.deepEquals(new Object[]{e.getValue()}, new Object[]{other.values.get(e.getKey())})) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            h = h * 31 + e.getKey().hashCode() * 17 + Arrays.deepHashCode(new Object[]{e.getValue()});
        }
        return h;
    }

    /** {@code {approximate="tanh", axis=1}}: stable across runs (no identity hash codes). */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("{");
        values.forEach((k, v) -> s.append(s.length() == 1 ? "" : ", ").append(k).append('=').append(text(v)));
        return s.append('}').toString();
    }
}
