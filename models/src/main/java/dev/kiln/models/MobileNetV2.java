package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;

import java.util.ArrayList;
import java.util.List;

/**
 * MobileNet v2 (Sandler et al. 2018) as torchvision 0.14 builds it: inverted residual blocks
 * (1x1 expansion unless the ratio is 1, 3x3 depthwise, both with batch-norm and ReLU6, then a
 * linear 1x1 projection with batch-norm), a shortcut Add where stride is 1 and the channels
 * match, a last 1x1 convolution to 1280 channels, dropout 0.2 and a fully connected layer.
 * The width multiplier scales channels through {@code _make_divisible(c * width, 8)}; the last
 * convolution only grows with it ({@code max(1.0, width)}).
 */
public final class MobileNetV2 {
    public static final String FAMILY = "mobilenet_v2";
    /** The width multipliers with names of their own (those of the paper's Table 6 and Keras). */
    public static final List<Float> WIDTHS = List.of(1.0f, 0.35f, 0.5f, 0.75f, 1.3f, 1.4f);

    /** Expansion t, output channels c, repeats n, first stride s: the paper's Table 2. */
    private static final int[][] SETTINGS = {
            {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
            {6, 320, 1, 1}};
    private static final float BN_EPSILON = BatchNormalization.DEFAULT_EPSILON;
    private static final int RESOLUTION = 224;

    private MobileNetV2() {
    }

    /** Width 1.0: the network named {@code mobilenet_v2}. */
    public static ModelSpec spec() {
        return spec(1.0f);
    }

    /**
     * MobileNet v2 with torchvision's {@code width_mult}, named {@code mobilenet_v2_<width>}
     * (e.g. {@code mobilenet_v2_0.5}), except the default, {@code mobilenet_v2}.
     */
    public static ModelSpec spec(float widthMultiplier) {
        if (!(widthMultiplier > 0)) {
            throw new IllegalArgumentException("the width multiplier must be positive, got " + widthMultiplier);
        }
        double width = Channels.decimal(widthMultiplier);
        String variant = Float.toString(widthMultiplier);
        String name = widthMultiplier == 1.0f ? FAMILY : FAMILY + "_" + variant;
        Shape input = Shape.of(Shape.DYNAMIC, 3, RESOLUTION, RESOLUTION);
        return new ModelSpec(name, FAMILY, variant, input, "MobileNet v2, width multiplier " + widthMultiplier,
                init -> NetworkBuilder.build(name, input, init, b -> network(b, width)));
    }

    static List<ModelSpec> all() {
        List<ModelSpec> specs = new ArrayList<>();
        WIDTHS.forEach(width -> specs.add(spec(width)));
        return specs;
    }

    private static String network(NetworkBuilder b, double width) {
        String x = convBnRelu6(b, "features.0", b.input(), Channels.makeDivisible(32 * width, 8), 3, 2, 1);
        int index = 1;
        for (int[] setting : SETTINGS) {
            int outChannels = Channels.makeDivisible(setting[1] * width, 8);
            for (int i = 0; i < setting[2]; i++) {
                x = invertedResidual(b, "features." + index++, x, outChannels, i == 0 ? setting[3] : 1, setting[0]);
            }
        }
        int lastChannels = Channels.makeDivisible(1280 * Math.max(1.0, width), 8);
        x = convBnRelu6(b, "features." + index, x, lastChannels, 1, 1, 1);
        x = b.globalAveragePool("avgpool", x);
        x = b.flatten("flatten", x);
        x = b.dropout("classifier.0", x);
        return b.logits("classifier.1", x, 1000);
    }

    private static String invertedResidual(NetworkBuilder b, String prefix, String x, int outChannels, int stride,
                                           int expandRatio) {
        int inChannels = b.channels(x);
        int hidden = inChannels * expandRatio;
        boolean residual = stride == 1 && inChannels == outChannels;
        String y = x;
        int layer = 0; // position in the block's conv Sequential, which names the layers
        if (expandRatio != 1) {
            y = convBnRelu6(b, prefix + ".conv." + layer++, y, hidden, 1, 1, 1);
        }
        y = convBnRelu6(b, prefix + ".conv." + layer++, y, hidden, 3, stride, hidden);
        y = b.conv(prefix + ".conv." + layer++, y, outChannels, 1, 1);
        String bn = prefix + ".conv." + layer;
        y = residual ? b.residualBatchNorm(bn, y, BN_EPSILON) : b.batchNorm(bn, y, BN_EPSILON);
        return residual ? b.add(prefix + ".add", x, y) : y;
    }

    /** torchvision's Conv2dNormActivation with ReLU6: convolution {@code .0}, batch-norm {@code .1}, ReLU6 {@code .2}. */
    private static String convBnRelu6(NetworkBuilder b, String prefix, String x, int outChannels, int kernel,
                                      int stride, int groups) {
        String y = b.conv(prefix + ".0", x, outChannels, kernel, stride, groups, false);
        y = b.batchNorm(prefix + ".1", y, BN_EPSILON);
        return b.activation(prefix + ".2", y, ActivationFunction.RELU6);
    }
}
