package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Op;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;

import java.util.List;

/**
 * One ONNX node being converted: its inputs as the importer knows them, its attributes, its
 * opset, and the means to add Kiln nodes for it. Converters read inputs through the accessor
 * that says what they need: float data ({@link #data}), an integer tensor known at import time
 * ({@link #ints}), or a float scalar parameter ({@link #constantFloat}); each reports an input
 * of the wrong kind as unsupported, naming the node.
 */
final class NodeContext {
    private final GraphReader reader;
    private final NodeProto proto;
    private final String name;
    private final long opset;
    private final Attributes attributes;

    NodeContext(GraphReader reader, NodeProto proto, String name, long opset) {
        this.reader = reader;
        this.proto = proto;
        this.name = name;
        this.opset = opset;
        this.attributes = new Attributes(proto, describe());
    }

    String opType() {
        return proto.getOpType();
    }

    /** The Kiln node name: the ONNX node's name, or {@code <op>_<index>}. */
    String name() {
        return name;
    }

    long opset() {
        return opset;
    }

    Attributes attributes() {
        return attributes;
    }

    /** An INT attribute that must fit an int. */
    int intAttribute(String attribute, long defaultValue) {
        return toInt(attributes.getInt(attribute, defaultValue), attribute);
    }

    /**
     * An INTS attribute of {@code length} values that must fit ints; when absent, {@code length}
     * copies of {@code defaultValue}.
     */
    int[] intsAttribute(String attribute, int length, int defaultValue) {
        long[] values = attributes.getInts(attribute);
        int[] result = new int[length];
        if (values == null) {
            java.util.Arrays.fill(result, defaultValue);
            return result;
        }
        if (values.length != length) {
            throw invalid("attribute '" + attribute + "' has " + values.length + " values, expected " + length);
        }
        for (int i = 0; i < length; i++) {
            result[i] = toInt(values[i], attribute);
        }
        return result;
    }

    int toInt(long value, String what) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw invalid(what + " value " + value + " is out of range");
        }
        return (int) value;
    }

    /** How messages name this node: {@code node 'conv1' (Conv, opset 13)}. */
    String describe() {
        return "node '" + name + "' (" + proto.getOpType() + ", opset " + opset + ")";
    }

    // ---- inputs ----

    int inputCount() {
        return proto.getInputCount();
    }

    boolean hasInput(int i) {
        return i < proto.getInputCount() && !proto.getInput(i).isEmpty();
    }

    String inputName(int i) {
        return hasInput(i) ? proto.getInput(i) : "";
    }

    /** Input {@code i} as float data in the Kiln graph: its Kiln value name. */
    String data(int i) {
        requireInput(i);
        String input = proto.getInput(i);
        return switch (reader.lookup(input)) {
            case ImportedValue.Data d -> d.name();
            case ImportedValue.Constant c -> {
                if (c.data().type() != DataType.FLOAT) {
                    throw unsupportedType(c.data().type(), input);
                }
                reader.useAsInitializer(input, c.data());
                yield input;
            }
            case ImportedValue.Ints ints -> throw unsupportedType(DataType.INT64, input);
            case ImportedValue.TypedInput t -> throw unsupportedType(t.type(), input);
            case ImportedValue.Unavailable u -> throw new GraphReader.DependsOnUnavailable();
        };
    }

    /** Input {@code i} as optional float data: its Kiln value name, or "" when absent. */
    String optionalData(int i) {
        return hasInput(i) ? data(i) : "";
    }

    private UnsupportedNodeException unsupportedType(DataType type, String input) {
        return new UnsupportedNodeException(type + " data", describe() + " reads '" + input + "' of type " + type
                + " as data; Kiln computes in float32 only");
    }

    /**
     * Input {@code i} as an integer tensor known at import time (a shape, axes, pads), whose
     * elements may still be symbolic dims.
     */
    IntTensor ints(int i, String role) {
        requireInput(i);
        String input = proto.getInput(i);
        return switch (reader.lookup(input)) {
            case ImportedValue.Ints ints -> ints.value();
            case ImportedValue.Constant c -> {
                if (!TensorData.isInteger(c.data().type())) {
                    throw invalid(role + " '" + input + "' has type " + c.data().type() + ", not an integer type");
                }
                yield IntTensor.of(c.data().shape().dims(), c.data().longs());
            }
            case ImportedValue.Data d -> throw notConstant(role, input);
            case ImportedValue.TypedInput t -> throw notConstant(role, input);
            case ImportedValue.Unavailable u -> throw new GraphReader.DependsOnUnavailable();
        };
    }

    /** Input {@code i} as integers whose every value is known at import time. */
    long[] constantInts(int i, String role) {
        IntTensor t = ints(i, role);
        if (!t.isKnown()) {
            throw unsupported(role + " depends on the batch size",
                    role + " '" + inputName(i) + "' is " + t + ", which depends on the batch size");
        }
        return t.values();
    }

    /** Input {@code i} as a float32 scalar known at import time (Clip's bounds, Pad's value). */
    float constantFloat(int i, String role) {
        requireInput(i);
        String input = proto.getInput(i);
        return switch (reader.lookup(input)) {
            case ImportedValue.Constant c -> {
                if (c.data().type() != DataType.FLOAT || c.data().count() != 1) {
                    throw invalid(role + " '" + input + "' must be one float32 value, got " + c.data().type() + " "
                            + c.data().shape());
                }
                yield c.data().floats()[0];
            }
            case ImportedValue.Unavailable u -> throw new GraphReader.DependsOnUnavailable();
            default -> throw notConstant(role, input);
        };
    }

    /** What the importer knows of input {@code i}. */
    ImportedValue value(int i) {
        requireInput(i);
        return reader.lookup(proto.getInput(i));
    }

    private UnsupportedNodeException notConstant(String role, String input) {
        boolean graphInput = reader.isGraphInput(input);
        String why = role + (graphInput ? " is a graph input" : " is computed at run time");
        return unsupported(why, role + " '" + input + "' must be known when the model is loaded, but it "
                + (graphInput ? "is a graph input" : "is computed at run time"));
    }

    private void requireInput(int i) {
        if (!hasInput(i)) {
            throw invalid("input " + i + " is missing");
        }
    }

    /** The known shape of a Kiln value (symbolic dims as -1), or null. */
    Shape shapeOf(String value) {
        return reader.shapes().shapeOf(value);
    }

    /** The shape of a Kiln value, which this conversion cannot do without. */
    Shape requireShape(String value, String why) {
        Shape s = shapeOf(value);
        String upstream = reader.shapes().failure(value);
        if (s == null && upstream != null) {
            // The node at fault is upstream; this one only needed the shape it could not have.
            throw new OnnxFormatException(upstream);
        }
        if (s == null) {
            throw unsupported("unknown input rank", "the shape of '" + value + "' is needed " + why
                    + " but cannot be worked out at import time");
        }
        return s;
    }

    /** The folder external data of Constant values may be read from. */
    java.nio.file.Path modelFolder() {
        return reader.modelFolder();
    }

    /** Records that a value holds batch-norm running statistics (buffers, not parameters). */
    void markStatistics(String value) {
        reader.markStatistics(value);
    }

    // ---- outputs ----

    int outputCount() {
        return proto.getOutputCount();
    }

    /** Output {@code i}'s ONNX name, or "" when absent. */
    String output(int i) {
        return i < proto.getOutputCount() ? proto.getOutput(i) : "";
    }

    /** Whether output {@code i} exists and a node or the graph reads it. */
    boolean isOutputUsed(int i) {
        String out = output(i);
        return !out.isEmpty() && reader.isRead(out);
    }

    /** Adds the Kiln node, named as the ONNX node, that computes output 0 from these Kiln values. */
    void emit(Op op, String... inputs) {
        reader.addNode(new Node(name, op, List.of(inputs), List.of(output(0))));
    }

    /** Adds a helper Kiln node named {@code <node>/<purpose>}; returns the new value it writes. */
    String emitIntermediate(String purpose, Op op, String... inputs) {
        String value = reader.freshName(name + "/" + purpose);
        reader.addNode(new Node(name + "/" + purpose, op, List.of(inputs), List.of(value)));
        return value;
    }

    /** Output {@code i} is a value known at import time (an integer tensor, an alias of a constant). */
    void define(int i, ImportedValue value) {
        String out = output(i);
        if (!out.isEmpty()) {
            reader.define(out, value);
        }
    }

    // ---- problems ----

    /** This node uses a form Kiln does not run; {@code why} is the short reason for the summary. */
    UnsupportedNodeException unsupported(String why, String detail) {
        return new UnsupportedNodeException(opType() + " (" + why + ")", describe() + ": " + detail);
    }

    UnsupportedNodeException unsupported(String why) {
        return unsupported(why, why + " is not supported");
    }

    /** The node contradicts the ONNX specification (a missing input, an attribute out of range). */
    OnnxFormatException invalid(String detail) {
        return new OnnxFormatException(describe() + ": " + detail);
    }
}
