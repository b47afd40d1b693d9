package dev.kiln.models.onnx;

import java.util.Map;

/**
 * How many inputs and outputs each imported ONNX op may have, from the ONNX operator
 * specification (the widest range over opsets 1 to 18; a converter checks the form of its own
 * opset). A converter reads only the inputs it knows, so without this check a Relu with three
 * inputs would import as a plain Relu.
 */
final class OnnxArity {
    private static final int ANY = Integer.MAX_VALUE;

    /** Inputs from {@code minInputs} to {@code maxInputs}, absent optional ones counted; at most {@code maxOutputs} outputs. */
    record Arity(int minInputs, int maxInputs, int maxOutputs) {
    }

    private static final Map<String, Arity> ARITIES = Map.ofEntries(
            Map.entry("Conv", new Arity(2, 3, 1)),
            Map.entry("MaxPool", new Arity(1, 1, 2)),
            Map.entry("AveragePool", new Arity(1, 1, 1)),
            Map.entry("GlobalAveragePool", new Arity(1, 1, 1)),
            Map.entry("GlobalMaxPool", new Arity(1, 1, 1)),
            Map.entry("Relu", new Arity(1, 1, 1)),
            Map.entry("Sigmoid", new Arity(1, 1, 1)),
            Map.entry("Tanh", new Arity(1, 1, 1)),
            Map.entry("HardSwish", new Arity(1, 1, 1)),
            Map.entry("LeakyRelu", new Arity(1, 1, 1)),
            Map.entry("HardSigmoid", new Arity(1, 1, 1)),
            Map.entry("Clip", new Arity(1, 3, 1)),
            Map.entry("Add", new Arity(2, 2, 1)),
            Map.entry("Sub", new Arity(2, 2, 1)),
            Map.entry("Mul", new Arity(2, 2, 1)),
            Map.entry("Div", new Arity(2, 2, 1)),
            Map.entry("Max", new Arity(1, ANY, 1)),
            Map.entry("Min", new Arity(1, ANY, 1)),
            Map.entry("Reshape", new Arity(1, 2, 1)),
            Map.entry("Squeeze", new Arity(1, 2, 1)),
            Map.entry("Unsqueeze", new Arity(1, 2, 1)),
            Map.entry("Shape", new Arity(1, 1, 1)),
            Map.entry("Gather", new Arity(2, 2, 1)),
            Map.entry("Cast", new Arity(1, 1, 1)),
            Map.entry("Constant", new Arity(0, 0, 1)),
            Map.entry("BatchNormalization", new Arity(5, 5, 5)),
            Map.entry("LRN", new Arity(1, 1, 1)),
            Map.entry("Gemm", new Arity(2, 3, 1)),
            Map.entry("MatMul", new Arity(2, 2, 1)),
            Map.entry("Softmax", new Arity(1, 1, 1)),
            Map.entry("Concat", new Arity(1, ANY, 1)),
            Map.entry("Flatten", new Arity(1, 1, 1)),
            Map.entry("Pad", new Arity(1, 4, 1)),
            Map.entry("Dropout", new Arity(1, 3, 2)),
            Map.entry("Identity", new Arity(1, 1, 1)),
            Map.entry("Transpose", new Arity(1, 1, 1)));

    private OnnxArity() {
    }

    /** The arity of an op type Kiln imports, or null. */
    static Arity of(String opType) {
        return ARITIES.get(opType);
    }

    /**
     * Checks a node's input and output counts against its op.
     *
     * @throws OnnxFormatException naming the node, what it has and what its op takes
     */
    static void check(NodeContext c) {
        Arity a = of(c.opType());
        if (a == null) {
            return;
        }
        int inputs = c.inputCount();
        if (inputs < a.minInputs() || inputs > a.maxInputs()) {
            String expected = a.minInputs() == a.maxInputs() ? Integer.toString(a.minInputs())
                    : a.minInputs() + " to " + (a.maxInputs() == ANY ? "any number of" : Integer.toString(a.maxInputs()));
            throw c.invalid("has " + inputs + " inputs, but " + c.opType() + " takes " + expected);
        }
        int outputs = c.outputCount();
        if (outputs < 1 || outputs > a.maxOutputs()) {
            throw c.invalid("has " + outputs + " outputs, but " + c.opType() + " has "
                    + (a.maxOutputs() == 1 ? "one" : "1 to " + a.maxOutputs()));
        }
    }
}
