package dev.kiln.conformance.kernels;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.graph.ops.Window.AutoPad;
import dev.kiln.conformance.OneNodeGraph;
import dev.kiln.conformance.OneNodeGraph.Output;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;

import static dev.kiln.testing.FloatAsserts.assertClose;
import static dev.kiln.testing.TestValues.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvKernelTest {

    @Test
    void pointwiseConvolutionMixesChannelsAndAddsBias() {
        // Channel 0 is 1..4, channel 1 is 5..8. Output 0 copies channel 0, output 1 copies
        // channel 1 plus 10, output 2 is channel 0 minus channel 1 plus 0.5, i.e. -4 + 0.5.
        Output y = OneNodeGraph.of(new Conv(Window.of(1, 1), 1))
                .input(Shape.of(1, 2, 2, 2), 1, 2, 3, 4, 5, 6, 7, 8)
                .constant(Shape.of(3, 2, 1, 1), 1, 0, 0, 1, 1, -1)
                .constant(Shape.of(3), 0, 10, 0.5f)
                .run();
        assertEquals(Shape.of(1, 3, 2, 2), y.shape());
        assertClose(new float[] {1, 2, 3, 4, 15, 16, 17, 18, -3.5f, -3.5f, -3.5f, -3.5f}, y.values());
    }

    @Test
    void threeByThreeOfOnesWithPaddingSumsEachNeighbourhood() {
        // Input 1..9 as a 3x3 image; each output is bias 1 plus the sum of the in-image
        // neighbours, e.g. the top-left corner is 1 + (1 + 2 + 4 + 5).
        Output y = OneNodeGraph.of(new Conv(Window.square(3, 1, 1), 1))
                .input(Shape.of(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)
                .constant(Shape.of(1, 1, 3, 3), 1, 1, 1, 1, 1, 1, 1, 1, 1)
                .constant(Shape.of(1), 1)
                .run();
        assertEquals(Shape.of(1, 1, 3, 3), y.shape());
        assertClose(new float[] {13, 22, 17, 28, 46, 34, 25, 40, 29}, y.values());
    }

    @Test
    void autoPadSameUpperPutsTheOddPadAtTheEnd() {
        // A 1x2 kernel [1, 10] over the row 1 2 3 4: stride 1 keeps 4 outputs and needs one pad.
        Output y = rowConv(AutoPad.SAME_UPPER);
        assertEquals(Shape.of(1, 1, 1, 4), y.shape());
        assertClose(new float[] {1 + 20, 2 + 30, 3 + 40, 4 + 0}, y.values());
    }

    @Test
    void autoPadSameLowerPutsTheOddPadAtTheStart() {
        Output y = rowConv(AutoPad.SAME_LOWER);
        assertEquals(Shape.of(1, 1, 1, 4), y.shape());
        assertClose(new float[] {0 + 10, 1 + 20, 2 + 30, 3 + 40}, y.values());
    }

    @Test
    void autoPadValidDoesNotPad() {
        Output y = rowConv(AutoPad.VALID);
        assertEquals(Shape.of(1, 1, 1, 3), y.shape());
        assertClose(new float[] {1 + 20, 2 + 30, 3 + 40}, y.values());
    }

    private static Output rowConv(AutoPad autoPad) {
        return OneNodeGraph.of(new Conv(Window.of(1, 2).withAutoPad(autoPad), 1))
                .input(Shape.of(1, 1, 1, 4), 1, 2, 3, 4)
                .constant(Shape.of(1, 1, 1, 2), 1, 10)
                .run();
    }

    /** One convolution problem; pads here are what the window must resolve to. */
    record Case(String name, int batch, int channels, int height, int width, int outChannels, int groups,
                Window window, int[] expectedPads, boolean bias) {
        Case(String name, int batch, int channels, int size, int outChannels, int groups, Window window,
             boolean bias) {
            this(name, batch, channels, size, size, outChannels, groups, window,
                    new int[] {window.padTop(), window.padLeft(), window.padBottom(), window.padRight()}, bias);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("1x1, batch 2", 2, 3, 4, 5, 1, Window.of(1, 1), true),
                new Case("1x1 groups 2, no bias", 1, 4, 3, 6, 2, Window.of(1, 1), false),
                new Case("1x1 stride 2", 1, 3, 5, 2, 1, Window.of(1, 1).withStrides(2, 2), true),
                new Case("1x1 pad 1", 1, 2, 3, 2, 1, Window.square(1, 1, 1), true),
                new Case("3x3 pad 1", 1, 3, 5, 4, 1, Window.square(3, 1, 1), true),
                new Case("3x3 stride 2 pad 1", 1, 2, 7, 3, 1, Window.square(3, 2, 1), true),
                new Case("3x3 stride 2, even input", 1, 2, 8, 2, 1, Window.square(3, 2, 1), true),
                new Case("asymmetric pads 0,1,2,0", 1, 2, 5, 2, 1, Window.of(3, 3).withPads(0, 1, 2, 0), true),
                new Case("different strides per axis", 1, 1, 7, 2, 1, Window.of(3, 2).withStrides(2, 1), true),
                new Case("dilation 2", 1, 2, 7, 2, 1, Window.square(3, 1, 2).withDilations(2, 2), true),
                new Case("dilation 2, stride 2, no pad", 1, 1, 9, 1, 1,
                        Window.of(3, 3).withDilations(2, 2).withStrides(2, 2), true),
                new Case("groups 2", 1, 4, 5, 6, 2, Window.square(3, 1, 1), true),
                new Case("depthwise 3x3", 2, 3, 6, 3, 3, Window.square(3, 1, 1), true),
                new Case("depthwise 5x5 stride 2", 1, 4, 9, 4, 4, Window.square(5, 2, 2), true),
                new Case("depthwise multiplier 2", 1, 2, 4, 4, 2, Window.square(3, 1, 1), true),
                new Case("no bias", 1, 2, 4, 3, 1, Window.square(3, 1, 1), false),
                new Case("5x5 pad 2", 1, 2, 7, 3, 1, Window.square(5, 1, 2), true),
                new Case("5x5 pad 2 on a 1x1 image", 1, 3, 1, 2, 1, Window.square(5, 1, 2), true),
                new Case("3x3 pad 1 on a 2x3 image", 1, 1, 2, 3, 2, 1, Window.square(3, 1, 1),
                        new int[] {1, 1, 1, 1}, true),
                new Case("3x1 kernel, dilation 2x1, strides 1x2, pads 2,0,1,1", 1, 2, 6, 2, 1,
                        Window.of(3, 1).withDilations(2, 1).withStrides(1, 2).withPads(2, 0, 1, 1), true),
                new Case("SAME_UPPER stride 2 on 6", 1, 2, 6, 6, 2, 1,
                        Window.of(3, 3).withStrides(2, 2).withAutoPad(AutoPad.SAME_UPPER), new int[] {0, 0, 1, 1},
                        true),
                new Case("SAME_LOWER stride 2 on 6", 1, 2, 6, 6, 2, 1,
                        Window.of(3, 3).withStrides(2, 2).withAutoPad(AutoPad.SAME_LOWER), new int[] {1, 1, 0, 0},
                        true),
                new Case("SAME_UPPER 5x5 stride 1 on 7x5", 1, 1, 7, 5, 2, 1,
                        Window.of(5, 5).withAutoPad(AutoPad.SAME_UPPER), new int[] {2, 2, 2, 2}, true),
                new Case("VALID ignores pads", 1, 1, 6, 6, 1, 1,
                        Window.square(3, 1, 1).withAutoPad(AutoPad.VALID), new int[] {0, 0, 0, 0}, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheDefinition(Case c) {
        Window w = c.window();
        float[] x = uniform(c.batch() * c.channels() * c.height() * c.width(), 1);
        float[] weights = uniform(c.outChannels() * (c.channels() / c.groups()) * w.kernelH() * w.kernelW(), 2);
        float[] bias = c.bias() ? uniform(c.outChannels(), 3) : null;
        Naive expected = naiveConv(c, x, weights, bias);

        OneNodeGraph model = OneNodeGraph.of(new Conv(w, c.groups()))
                .input(Shape.of(c.batch(), c.channels(), c.height(), c.width()), x)
                .constant(Shape.of(c.outChannels(), c.channels() / c.groups(), w.kernelH(), w.kernelW()), weights);
        if (bias != null) {
            model.constant(Shape.of(c.outChannels()), bias);
        }
        Output y = model.run();

        assertEquals(expected.shape(), y.shape());
        assertClose(expected.values(), y.values());
    }

    @Test
    void reluPostOpClampsNegatives() {
        checkPostOp(List.of(new PostOp.Activate(ActivationFunction.RELU)), v -> Math.max(0, v));
    }

    @Test
    void relu6PostOpClipsToZeroAndSix() {
        checkPostOp(List.of(new PostOp.Activate(ActivationFunction.RELU6)), v -> Math.min(6, Math.max(0, v)));
    }

    @Test
    void siluPostOp() {
        checkPostOp(List.of(new PostOp.Activate(ActivationFunction.SILU)), v -> v / (1 + Math.exp(-v)));
    }

    @Test
    void hardSwishPostOp() {
        checkPostOp(List.of(new PostOp.Activate(ActivationFunction.HARD_SWISH)),
                v -> v * Math.min(6, Math.max(0, v + 3)) / 6);
    }

    @Test
    void residualAddThenRelu() {
        checkResidual(List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU)),
                (conv, residual) -> Math.max(0, conv + residual));
    }

    @Test
    void reluThenResidualAddKeepsTheOrderGiven() {
        checkResidual(List.of(new PostOp.Activate(ActivationFunction.RELU), new PostOp.AddResidual()),
                (conv, residual) -> Math.max(0, conv) + residual);
    }

    @Test
    void twoActivationsApplyInOrder() {
        // Clip to [-1, 1] then sigmoid: the sigmoid only ever sees [-1, 1].
        checkPostOp(List.of(new PostOp.Activate(ActivationFunction.clip(-1, 1)),
                        new PostOp.Activate(ActivationFunction.SIGMOID)),
                v -> 1 / (1 + Math.exp(-Math.min(1, Math.max(-1, v)))));
    }

    private static final Case POST_OP_CASE = new Case("3x3 pad 1", 1, 2, 5, 3, 1, Window.square(3, 1, 1), true);

    /** Weights scaled up so that outputs reach every piece of each activation (below -3, above 6). */
    private static float[] scaled(float[] v, float factor) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= factor;
        }
        return out;
    }

    private static void checkPostOp(List<PostOp> postOps, DoubleUnaryOperator f) {
        Case c = POST_OP_CASE;
        Window w = c.window();
        float[] x = uniform(c.channels() * c.height() * c.width(), 11);
        float[] weights = scaled(uniform(c.outChannels() * c.channels() * 9, 12), 2);
        float[] bias = uniform(c.outChannels(), 13);
        Naive conv = naiveConv(c, x, weights, bias);
        double[] expected = new double[conv.values().length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = f.applyAsDouble(conv.values()[i]);
        }
        Output y = OneNodeGraph.of(new Conv(w, 1, postOps))
                .input(Shape.of(1, c.channels(), c.height(), c.width()), x)
                .constant(Shape.of(c.outChannels(), c.channels(), 3, 3), weights)
                .constant(Shape.of(c.outChannels()), bias)
                .run();
        assertEquals(conv.shape(), y.shape());
        assertClose(expected, y.values());
        assertSpansNegativeAndAboveSix(conv.values());
    }

    /** Without this, an activation whose clamp never triggers on the data would pass unnoticed. */
    private static void assertSpansNegativeAndAboveSix(double[] v) {
        double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (double d : v) {
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertTrue(min < -3 && max > 6,
                "test data should reach below -1 and above 6, spans " + min + " to " + max);
    }

    private interface ResidualRule {
        double apply(double conv, double residual);
    }

    private static void checkResidual(List<PostOp> postOps, ResidualRule rule) {
        Case c = POST_OP_CASE;
        float[] x = uniform(c.channels() * c.height() * c.width(), 21);
        float[] weights = scaled(uniform(c.outChannels() * c.channels() * 9, 22), 2);
        float[] bias = uniform(c.outChannels(), 23);
        Naive conv = naiveConv(c, x, weights, bias);
        float[] residual = scaled(uniform(conv.values().length, 24), 4);
        double[] expected = new double[residual.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = rule.apply(conv.values()[i], residual[i]);
        }
        Output y = OneNodeGraph.of(new Conv(c.window(), 1, postOps))
                .input(Shape.of(1, c.channels(), c.height(), c.width()), x)
                .constant(Shape.of(c.outChannels(), c.channels(), 3, 3), weights)
                .constant(Shape.of(c.outChannels()), bias)
                .input(conv.shape(), residual)
                .run();
        assertClose(expected, y.values());
    }

    record Naive(Shape shape, double[] values) {
    }

    /**
     * The definition, in double: each output is the bias plus the sum, over its group's input
     * channels and the kernel taps that land inside the image, of weight times input.
     */
    private static Naive naiveConv(Case c, float[] x, float[] weights, float[] bias) {
        Window w = c.window();
        int top = c.expectedPads()[0], left = c.expectedPads()[1];
        int bottom = c.expectedPads()[2], right = c.expectedPads()[3];
        int kh = w.kernelH(), kw = w.kernelW();
        int outH = (c.height() + top + bottom - (w.dilationH() * (kh - 1) + 1)) / w.strideH() + 1;
        int outW = (c.width() + left + right - (w.dilationW() * (kw - 1) + 1)) / w.strideW() + 1;
        int perGroupIn = c.channels() / c.groups(), perGroupOut = c.outChannels() / c.groups();
        double[] y = new double[c.batch() * c.outChannels() * outH * outW];
        int i = 0;
        for (int n = 0; n < c.batch(); n++) {
            for (int m = 0; m < c.outChannels(); m++) {
                int group = m / perGroupOut;
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        double sum = bias == null ? 0 : bias[m];
                        for (int ci = 0; ci < perGroupIn; ci++) {
                            int channel = group * perGroupIn + ci;
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * w.strideH() - top + ky * w.dilationH();
                                    int ix = ox * w.strideW() - left + kx * w.dilationW();
                                    if (iy >= 0 && iy < c.height() && ix >= 0 && ix < c.width()) {
                                        double xv = x[((n * c.channels() + channel) * c.height() + iy) * c.width()
                                                + ix];
                                        double wv = weights[((m * perGroupIn + ci) * kh + ky) * kw + kx];
                                        sum += xv * wv;
                                    }
                                }
                            }
                        }
                        y[i++] = sum;
                    }
                }
            }
        }
        return new Naive(Shape.of(c.batch(), c.outChannels(), outH, outW), y);
    }
}
