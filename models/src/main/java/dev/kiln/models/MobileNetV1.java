package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;

import java.util.ArrayList;
import java.util.List;

/**
 * MobileNet v1 (Howard et al. 2017, Table 1), which torchvision does not have: a strided 3x3
 * convolution to 32 channels, 13 depthwise-separable blocks (depthwise 3x3, then pointwise
 * 1x1, each followed by batch-norm and ReLU), global average pooling and a fully connected
 * layer. The width multiplier alpha scales every layer's channels to {@code int(c * alpha)};
 * the resolution multiplier is the input size. Convolutions have no bias; batch-norm uses
 * PyTorch's default epsilon.
 *
 * <p>Layer names follow a torchvision-like layout: {@code features.0} is the stem
 * (convolution {@code .0}, batch-norm {@code .1}, ReLU {@code .2}); block {@code features.i}
 * has its depthwise convolution, batch-norm and ReLU at {@code .0 .1 .2} and its pointwise ones
 * at {@code .3 .4 .5}; the classifier is {@code fc}.
 */
public final class MobileNetV1 {
    public static final String FAMILY = "mobilenet_v1";
    public static final List<Float> ALPHAS = List.of(1.0f, 0.75f, 0.5f, 0.25f);
    public static final List<Integer> RESOLUTIONS = List.of(224, 192, 160, 128);

    /** Output channels and stride of the 13 depthwise-separable blocks. */
    private static final int[][] BLOCKS = {
            {64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
    private static final float BN_EPSILON = BatchNormalization.DEFAULT_EPSILON;

    private MobileNetV1() {
    }

    /** Alpha 1.0 at 224x224: the network named {@code mobilenet_v1}. */
    public static ModelSpec spec() {
        return spec(1.0f, 224);
    }

    /**
     * MobileNet v1 with width multiplier {@code alpha} (in (0, 1] in the paper; larger works) at
     * this input resolution. Named {@code mobilenet_v1_<alpha>_<resolution>}, e.g.
     * {@code mobilenet_v1_0.5_160}, except the default, {@code mobilenet_v1}.
     */
    public static ModelSpec spec(float alpha, int resolution) {
        double width = Channels.decimal(alpha);
        if (!(width > 0) || (int) (32 * width) < 1) {
            throw new IllegalArgumentException("alpha must leave at least one channel in every layer, got " + alpha);
        }
        if (resolution < 32) {
            throw new IllegalArgumentException("resolution must be at least 32 (the network downsamples by 32), got "
                    + resolution);
        }
        String variant = Float.toString(alpha) + "_" + resolution;
        String name = alpha == 1.0f && resolution == 224 ? FAMILY : FAMILY + "_" + variant;
        Shape input = Shape.of(Shape.DYNAMIC, 3, resolution, resolution);
        return new ModelSpec(name, FAMILY, variant, input,
                "MobileNet v1, alpha " + alpha + ", " + resolution + "x" + resolution,
                init -> NetworkBuilder.build(name, input, init, b -> network(b, width)));
    }

    /** The default first, then every other alpha and resolution of the paper's Table 6 and 7 grid. */
    static List<ModelSpec> all() {
        List<ModelSpec> specs = new ArrayList<>();
        specs.add(spec());
        for (float alpha : ALPHAS) {
            for (int resolution : RESOLUTIONS) {
                if (alpha != 1.0f || resolution != 224) {
                    specs.add(spec(alpha, resolution));
                }
            }
        }
        return specs;
    }

    private static String network(NetworkBuilder b, double alpha) {
        String x = b.conv("features.0.0", b.input(), (int) (32 * alpha), 3, 2);
        x = b.batchNorm("features.0.1", x, BN_EPSILON);
        x = b.relu("features.0.2", x);
        for (int i = 0; i < BLOCKS.length; i++) {
            String prefix = "features." + (i + 1);
            int channels = b.channels(x);
            x = b.conv(prefix + ".0", x, channels, 3, BLOCKS[i][1], channels, false);
            x = b.batchNorm(prefix + ".1", x, BN_EPSILON);
            x = b.relu(prefix + ".2", x);
            x = b.conv(prefix + ".3", x, (int) (BLOCKS[i][0] * alpha), 1, 1);
            x = b.batchNorm(prefix + ".4", x, BN_EPSILON);
            x = b.relu(prefix + ".5", x);
        }
        x = b.globalAveragePool("avgpool", x);
        x = b.flatten("flatten", x);
        return b.logits("fc", x, 1000);
    }
}
