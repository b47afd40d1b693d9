package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;

import java.util.ArrayList;
import java.util.List;

/**
 * EfficientNet-B0 to B7 (Tan and Le 2019) as torchvision 0.14's {@code efficientnet_b*}: the
 * B0 stage table of MBConv blocks scaled by a width multiplier (channels
 * {@code _make_divisible(c * width, 8)}) and a depth multiplier (repeats
 * {@code ceil(n * depth)}). An MBConv block is a 1x1 expansion (unless the ratio is 1), a
 * depthwise k x k convolution, both with batch-norm and SiLU, squeeze-excitation (global
 * average pool, 1x1 convolution with bias to {@code max(1, block input channels / 4)}, SiLU,
 * 1x1 convolution with bias, sigmoid, broadcast Mul), and a linear 1x1 projection with
 * batch-norm; a shortcut Add where stride is 1 and the channels match. Stochastic depth is the
 * identity at inference and is not represented.
 *
 * <p>Batch-norm epsilon: torchvision uses PyTorch's default 1e-5 for B0 to B4 and 1e-3 for B5
 * to B7 (whose weights were ported from TensorFlow).
 */
public final class EfficientNet {
    public static final String FAMILY = "efficientnet";

    /** Expansion, kernel, first stride, input channels, output channels, repeats: the B0 stages. */
    private static final int[][] STAGES = {
            {1, 3, 1, 32, 16, 1}, {6, 3, 2, 16, 24, 2}, {6, 5, 2, 24, 40, 2}, {6, 3, 2, 40, 80, 3},
            {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};

    /**
     * Compound scaling per variant. Resolutions are the paper's; torchvision's pretrained B2
     * evaluates at 288 instead of 260.
     */
    private record Scaling(double width, double depth, int resolution, float bnEpsilon) {
    }

    private static final List<Scaling> VARIANTS = List.of(
            new Scaling(1.0, 1.0, 224, BatchNormalization.DEFAULT_EPSILON),
            new Scaling(1.0, 1.1, 240, BatchNormalization.DEFAULT_EPSILON),
            new Scaling(1.1, 1.2, 260, BatchNormalization.DEFAULT_EPSILON),
            new Scaling(1.2, 1.4, 300, BatchNormalization.DEFAULT_EPSILON),
            new Scaling(1.4, 1.8, 380, BatchNormalization.DEFAULT_EPSILON),
            new Scaling(1.6, 2.2, 456, 1e-3f),
            new Scaling(1.8, 2.6, 528, 1e-3f),
            new Scaling(2.0, 3.1, 600, 1e-3f));

    private EfficientNet() {
    }

    /** EfficientNet-B{@code variant}, 0 to 7. */
    public static ModelSpec spec(int variant) {
        if (variant < 0 || variant >= VARIANTS.size()) {
            throw new IllegalArgumentException("no EfficientNet-B" + variant + "; known variants: B0 to B"
                    + (VARIANTS.size() - 1));
        }
        Scaling scaling = VARIANTS.get(variant);
        String name = "efficientnet_b" + variant;
        Shape input = Shape.of(Shape.DYNAMIC, 3, scaling.resolution(), scaling.resolution());
        return new ModelSpec(name, FAMILY, "b" + variant, input,
                "EfficientNet-B" + variant + ", width " + scaling.width() + ", depth " + scaling.depth() + ", "
                        + scaling.resolution() + "x" + scaling.resolution(),
                init -> NetworkBuilder.build(name, input, init, b -> network(b, scaling)));
    }

    static List<ModelSpec> all() {
        List<ModelSpec> specs = new ArrayList<>();
        for (int variant = 0; variant < VARIANTS.size(); variant++) {
            specs.add(spec(variant));
        }
        return specs;
    }

    private static String network(NetworkBuilder b, Scaling scaling) {
        float eps = scaling.bnEpsilon();
        String x = b.conv("features.0.0", b.input(), Channels.makeDivisible(STAGES[0][3] * scaling.width(), 8), 3, 2);
        x = b.batchNorm("features.0.1", x, eps);
        x = b.activation("features.0.2", x, ActivationFunction.SILU);
        for (int stage = 0; stage < STAGES.length; stage++) {
            int[] s = STAGES[stage];
            int outChannels = Channels.makeDivisible(s[4] * scaling.width(), 8);
            int repeats = (int) Math.ceil(s[5] * scaling.depth());
            for (int i = 0; i < repeats; i++) {
                String prefix = "features." + (stage + 1) + "." + i;
                x = mbConv(b, prefix, x, s[0], s[1], i == 0 ? s[2] : 1, outChannels, eps);
            }
        }
        String last = "features." + (STAGES.length + 1);
        x = b.conv(last + ".0", x, 4 * b.channels(x), 1, 1);
        x = b.batchNorm(last + ".1", x, eps);
        x = b.activation(last + ".2", x, ActivationFunction.SILU);
        x = b.globalAveragePool("avgpool", x);
        x = b.flatten("flatten", x);
        x = b.dropout("classifier.0", x);
        return b.logits("classifier.1", x, 1000);
    }

    private static String mbConv(NetworkBuilder b, String prefix, String x, int expandRatio, int kernel, int stride,
                                 int outChannels, float eps) {
        int inChannels = b.channels(x);
        int expanded = Channels.makeDivisible(inChannels * (double) expandRatio, 8);
        boolean residual = stride == 1 && inChannels == outChannels;
        String y = x;
        int layer = 0; // position in the block's Sequential, which names the layers
        if (expanded != inChannels) {
            y = convBnSilu(b, prefix + ".block." + layer++, y, expanded, 1, 1, 1, eps);
        }
        y = convBnSilu(b, prefix + ".block." + layer++, y, expanded, kernel, stride, expanded, eps);
        y = squeezeExcitation(b, prefix + ".block." + layer++, y, Math.max(1, inChannels / 4));
        String project = prefix + ".block." + layer;
        y = b.conv(project + ".0", y, outChannels, 1, 1);
        y = residual ? b.residualBatchNorm(project + ".1", y, eps) : b.batchNorm(project + ".1", y, eps);
        return residual ? b.add(prefix + ".add", y, x) : y;
    }

    /** torchvision's SqueezeExcitation with SiLU: per-channel gates from the pooled input. */
    private static String squeezeExcitation(NetworkBuilder b, String prefix, String x, int squeezeChannels) {
        String scale = b.globalAveragePool(prefix + ".avgpool", x);
        scale = b.conv(prefix + ".fc1", scale, squeezeChannels, 1, 1, 1, true);
        scale = b.activation(prefix + ".activation", scale, ActivationFunction.SILU);
        scale = b.conv(prefix + ".fc2", scale, b.channels(x), 1, 1, 1, true);
        scale = b.activation(prefix + ".scale_activation", scale, ActivationFunction.SIGMOID);
        return b.mul(prefix + ".mul", scale, x);
    }

    private static String convBnSilu(NetworkBuilder b, String prefix, String x, int outChannels, int kernel,
                                     int stride, int groups, float eps) {
        String y = b.conv(prefix + ".0", x, outChannels, kernel, stride, groups, false);
        y = b.batchNorm(prefix + ".1", y, eps);
        return b.activation(prefix + ".2", y, ActivationFunction.SILU);
    }
}
