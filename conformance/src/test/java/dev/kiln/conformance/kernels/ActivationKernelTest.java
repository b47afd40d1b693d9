package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ActivationKernelTest {

    /** Points on both sides of every kink and saturation of the functions below. */
    private static final float[] POINTS = {-8, -3.5f, -3, -1, -0.5f, 0, 0.25f, 0.5f, 1, 2.5f, 3, 6, 8};

    static Stream<Arguments> functions() {
        return Stream.of(
                Arguments.of(ActivationFunction.RELU, "Relu", (DoubleUnaryOperator) x -> x > 0 ? x : 0),
                Arguments.of(ActivationFunction.RELU6, "Clip", (DoubleUnaryOperator) x -> x < 0 ? 0 : x > 6 ? 6 : x),
                Arguments.of(ActivationFunction.clip(-1, 2.5f), "Clip",
                        (DoubleUnaryOperator) x -> x < -1 ? -1 : x > 2.5 ? 2.5 : x),
                Arguments.of(ActivationFunction.SIGMOID, "Sigmoid", (DoubleUnaryOperator) x -> 1 / (1 + Math.exp(-x))),
                Arguments.of(ActivationFunction.SILU, "SiLU", (DoubleUnaryOperator) x -> x / (1 + Math.exp(-x))),
                Arguments.of(ActivationFunction.hardSigmoid(0.2f, 0.5f), "HardSigmoid",
                        (DoubleUnaryOperator) x -> x <= -2.5 ? 0 : x >= 2.5 ? 1 : 0.2 * x + 0.5),
                Arguments.of(ActivationFunction.HARD_SWISH, "HardSwish",
                        (DoubleUnaryOperator) x -> x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6),
                Arguments.of(ActivationFunction.leakyRelu(0.1f), "LeakyRelu",
                        (DoubleUnaryOperator) x -> x >= 0 ? x : 0.1 * x),
                Arguments.of(ActivationFunction.TANH, "Tanh", (DoubleUnaryOperator) Math::tanh));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void matchesItsFormulaOnBothSidesOfEveryKink(ActivationFunction f, String opType, DoubleUnaryOperator formula) {
        Activation op = new Activation(f);
        assertEquals(opType, op.type());
        Output y = OneNodeGraph.of(op).input(Shape.of(1, POINTS.length), POINTS).run();
        double[] expected = new double[POINTS.length];
        for (int i = 0; i < POINTS.length; i++) {
            expected[i] = formula.applyAsDouble(POINTS[i]);
        }
        assertEquals(Shape.of(1, POINTS.length), y.shape());
        assertClose(expected, y.values(), 1e-6);
    }

    @Test
    void handPickedValues() {
        // sigmoid(0) = 0.5, tanh(0) = 0, hard-swish(1) = 1 * 4 / 6, hard-sigmoid(1) = 0.7,
        // leaky-relu(-3) = -0.3 with alpha 0.1, SiLU(0) = 0.
        assertClose(new float[] {0.5f}, one(ActivationFunction.SIGMOID, 0));
        assertClose(new float[] {0f}, one(ActivationFunction.TANH, 0));
        assertClose(new float[] {4f / 6}, one(ActivationFunction.HARD_SWISH, 1));
        assertClose(new float[] {0.7f}, one(ActivationFunction.hardSigmoid(0.2f, 0.5f), 1));
        assertClose(new float[] {-0.3f}, one(ActivationFunction.leakyRelu(0.1f), -3));
        assertClose(new float[] {0f}, one(ActivationFunction.SILU, 0));
    }

    @Test
    void sigmoidAndTanhSaturateWithoutOverflow() {
        Output sigmoid = OneNodeGraph.of(new Activation(ActivationFunction.SIGMOID))
                .input(Shape.of(2), -1000, 1000).run();
        assertClose(new float[] {0, 1}, sigmoid.values());
        Output silu = OneNodeGraph.of(new Activation(ActivationFunction.SILU)).input(Shape.of(2), -1000, 1000).run();
        assertClose(new float[] {0, 1000}, silu.values());
        Output tanh = OneNodeGraph.of(new Activation(ActivationFunction.TANH)).input(Shape.of(2), -1000, 1000).run();
        assertClose(new float[] {-1, 1}, tanh.values());
    }

    @Test
    void keepsTheShapeOfARank4Input() {
        Output y = OneNodeGraph.of(new Activation(ActivationFunction.RELU))
                .input(Shape.of(2, 1, 1, 2), -1, 2, 3, -4).run();
        assertEquals(Shape.of(2, 1, 1, 2), y.shape());
        assertClose(new float[] {0, 2, 3, 0}, y.values());
    }

    private static float[] one(ActivationFunction f, float x) {
        return OneNodeGraph.of(new Activation(f)).input(Shape.of(1), x).run().values();
    }
}
