package dev.kiln.models;

import dev.kiln.Shape;

import java.util.List;

/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014) as torchvision 0.14's
 * {@code googlenet(aux_logits=False, transform_input=False)}: every convolution is a
 * BasicConv2d (convolution without bias, batch-norm with epsilon 0.001, ReLU), max-pools use
 * ceil mode, and the auxiliary classifiers, used only in training, are absent.
 *
 * <p>torchvision's Inception block builds its "5x5" branch with a 3x3 convolution (a known
 * quirk, pytorch/vision#906, kept for its pretrained weights); so does this one.
 */
public final class GoogLeNet {
    public static final String FAMILY = "googlenet";

    private static final float BN_EPSILON = 0.001f;
    private static final int RESOLUTION = 224;

    private GoogLeNet() {
    }

    public static ModelSpec spec() {
        String name = "googlenet";
        Shape input = Shape.of(Shape.DYNAMIC, 3, RESOLUTION, RESOLUTION);
        return new ModelSpec(name, FAMILY, "v1", input, "GoogLeNet (Inception v1), without auxiliary classifiers",
                init -> NetworkBuilder.build(name, input, init, GoogLeNet::network));
    }

    static List<ModelSpec> all() {
        return List.of(spec());
    }

    private static String network(NetworkBuilder b) {
        String x = basicConv(b, "conv1", b.input(), 64, 7, 2);
        x = b.maxPool("maxpool1", x, 3, 2, 0, true);
        x = basicConv(b, "conv2", x, 64, 1, 1);
        x = basicConv(b, "conv3", x, 192, 3, 1);
        x = b.maxPool("maxpool2", x, 3, 2, 0, true);

        x = inception(b, "inception3a", x, 64, 96, 128, 16, 32, 32);
        x = inception(b, "inception3b", x, 128, 128, 192, 32, 96, 64);
        x = b.maxPool("maxpool3", x, 3, 2, 0, true);

        x = inception(b, "inception4a", x, 192, 96, 208, 16, 48, 64);
        x = inception(b, "inception4b", x, 160, 112, 224, 24, 64, 64);
        x = inception(b, "inception4c", x, 128, 128, 256, 24, 64, 64);
        x = inception(b, "inception4d", x, 112, 144, 288, 32, 64, 64);
        x = inception(b, "inception4e", x, 256, 160, 320, 32, 128, 128);
        x = b.maxPool("maxpool4", x, 2, 2, 0, true);

        x = inception(b, "inception5a", x, 256, 160, 320, 32, 128, 128);
        x = inception(b, "inception5b", x, 384, 192, 384, 48, 128, 128);

        x = b.globalAveragePool("avgpool", x);
        x = b.flatten("flatten", x);
        x = b.dropout("dropout", x);
        return b.logits("fc", x, 1000);
    }

    /** Four parallel branches concatenated along the channels: 1x1; 1x1, 3x3; 1x1, "5x5"; pool, 1x1. */
    private static String inception(NetworkBuilder b, String prefix, String x, int ch1x1, int ch3x3Reduce,
                                    int ch3x3, int ch5x5Reduce, int ch5x5, int poolProjection) {
        String branch1 = basicConv(b, prefix + ".branch1", x, ch1x1, 1, 1);

        String branch2 = basicConv(b, prefix + ".branch2.0", x, ch3x3Reduce, 1, 1);
        branch2 = basicConv(b, prefix + ".branch2.1", branch2, ch3x3, 3, 1);

        String branch3 = basicConv(b, prefix + ".branch3.0", x, ch5x5Reduce, 1, 1);
        branch3 = basicConv(b, prefix + ".branch3.1", branch3, ch5x5, 3, 1); // 3x3: torchvision's quirk

        String branch4 = b.maxPool(prefix + ".branch4.0", x, 3, 1, 1, true);
        branch4 = basicConv(b, prefix + ".branch4.1", branch4, poolProjection, 1, 1);

        return b.concat(prefix, List.of(branch1, branch2, branch3, branch4));
    }

    private static String basicConv(NetworkBuilder b, String prefix, String x, int outChannels, int kernel,
                                    int stride) {
        String y = b.conv(prefix + ".conv", x, outChannels, kernel, stride);
        y = b.batchNorm(prefix + ".bn", y, BN_EPSILON);
        return b.relu(prefix + ".relu", y);
    }
}
