package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Passthrough;

import java.util.Map;

/** Activations (Relu, Clip, Sigmoid, ...) and broadcasting arithmetic (Add, Sub, Mul, Div). */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    static void register(Map<String, OpConverter> m) {
        m.put("Relu", c -> activation(c, ActivationFunction.RELU));
        m.put("Sigmoid", c -> activation(c, ActivationFunction.SIGMOID));
        m.put("Tanh", c -> activation(c, ActivationFunction.TANH));
        m.put("HardSwish", c -> activation(c, ActivationFunction.HARD_SWISH));
        m.put("LeakyRelu", c -> activation(c, ActivationFunction.leakyRelu(c.attributes().getFloat("alpha", 0.01f))));
        m.put("HardSigmoid", c -> activation(c, ActivationFunction.hardSigmoid(
                c.attributes().getFloat("alpha", 0.2f), c.attributes().getFloat("beta", 0.5f))));
        m.put("Clip", ElementwiseOps::clip);
        m.put("Add", c -> binary(c, Binary.Kind.ADD));
        m.put("Sub", c -> binary(c, Binary.Kind.SUB));
        m.put("Mul", c -> binary(c, Binary.Kind.MUL));
        m.put("Div", c -> binary(c, Binary.Kind.DIV));
        m.put("Max", c -> variadic(c, Binary.Kind.MAX));
        m.put("Min", c -> variadic(c, Binary.Kind.MIN));
    }

    /** Max and Min of any number of inputs (broadcast together): a chain of binary nodes. */
    private static void variadic(NodeContext c, Binary.Kind kind) {
        int count = c.inputCount();
        if (count == 1) {
            c.emit(Passthrough.IDENTITY, c.data(0));
            return;
        }
        String acc = c.data(0);
        for (int i = 1; i < count - 1; i++) {
            acc = c.emitIntermediate(kind.name().toLowerCase(java.util.Locale.ROOT) + i, new Binary(kind), acc,
                    c.data(i));
        }
        c.emit(new Binary(kind), acc, c.data(count - 1));
    }

    private static void activation(NodeContext c, ActivationFunction f) {
        c.emit(new Activation(f), c.data(0));
    }

    /**
     * Before opset 11 the bounds are attributes; from 11 they are optional inputs. Constant
     * bounds (exporters write them as initializers or Constant nodes) make one Clip activation,
     * which fuses into a conv; bounds computed at run time or fed as graph inputs become
     * Max(x, min) then Min(., max). An absent bound is the float range's end, as ONNX specifies.
     */
    private static void clip(NodeContext c) {
        String x = c.data(0);
        if (c.opset() < 11) {
            c.emit(new Activation(ActivationFunction.clip(c.attributes().getFloat("min", -Float.MAX_VALUE),
                    c.attributes().getFloat("max", Float.MAX_VALUE))), x);
            return;
        }
        boolean constantMin = !c.hasInput(1) || c.value(1) instanceof ImportedValue.Constant;
        boolean constantMax = !c.hasInput(2) || c.value(2) instanceof ImportedValue.Constant;
        if (constantMin && constantMax) {
            float min = c.hasInput(1) ? c.constantFloat(1, "min") : -Float.MAX_VALUE;
            float max = c.hasInput(2) ? c.constantFloat(2, "max") : Float.MAX_VALUE;
            c.emit(new Activation(ActivationFunction.clip(min, max)), x);
            return;
        }
        String lowered = c.hasInput(1) ? c.emitIntermediate("at_least_min", new Binary(Binary.Kind.MAX), x, c.data(1)) : x;
        if (c.hasInput(2)) {
            c.emit(new Binary(Binary.Kind.MIN), lowered, c.data(2));
        } else {
            c.emit(Passthrough.IDENTITY, lowered);
        }
    }

    /**
     * Opset 7 and later broadcast as NumPy does, which is Kiln's rule. Before 7, broadcasting is
     * opt-in and an {@code axis} attribute may align B's dims with A's starting there: the same
     * as NumPy only when B's dims end where A's do.
     */
    private static void binary(NodeContext c, Binary.Kind kind) {
        String a = c.data(0);
        String b = c.data(1);
        if (c.opset() < 7 && c.attributes().getInt("broadcast", 0) != 0 && c.attributes().has("axis")) {
            Shape as = c.shapeOf(a);
            Shape bs = c.shapeOf(b);
            long axis = c.attributes().getInt("axis", 0);
            if (as == null || bs == null || (axis < 0 ? axis + as.rank() : axis) != as.rank() - bs.rank()) {
                throw c.unsupported("legacy broadcast axis", "broadcasting B from axis " + axis
                        + " is not NumPy broadcasting (shapes " + as + " and " + bs + ")");
            }
        }
        c.emit(new Binary(kind), a, b);
    }
}
