package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;

import java.util.ArrayList;
import java.util.List;

/**
 * VGG-11/13/16/19 (Simonyan and Zisserman 2014, configurations A, B, D, E), with or without
 * batch-norm, as torchvision 0.14 builds them: 3x3 convolutions with bias and padding 1, 2x2
 * max-pools, then a classifier of three fully connected layers with ReLU and dropout.
 *
 * <p>torchvision's {@code AdaptiveAvgPool2d((7, 7))} between the features and the classifier
 * is omitted: every VGG here takes 224x224 input, whose feature map is already 7x7, where that
 * pool is the identity. The builder checks the 7x7 so that this stays true.
 */
public final class Vgg {
    public static final String FAMILY = "vgg";
    public static final List<Integer> DEPTHS = List.of(11, 13, 16, 19);

    /** A max-pool in a configuration. */
    private static final int POOL = 0;
    private static final int RESOLUTION = 224;

    private Vgg() {
    }

    /** VGG of depth 11, 13, 16 or 19, with batch-norm after every convolution if {@code batchNorm}. */
    public static ModelSpec spec(int depth, boolean batchNorm) {
        int[] config = switch (depth) {
            case 11 -> new int[] {64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL};
            case 13 -> new int[] {64, 64, POOL, 128, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL};
            case 16 -> new int[] {64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL,
                    512, 512, 512, POOL};
            case 19 -> new int[] {64, 64, POOL, 128, 128, POOL, 256, 256, 256, 256, POOL, 512, 512, 512, 512,
                    POOL, 512, 512, 512, 512, POOL};
            default -> throw new IllegalArgumentException("no VGG of depth " + depth + "; known depths: " + DEPTHS);
        };
        String variant = depth + (batchNorm ? "_bn" : "");
        String name = "vgg" + variant;
        Shape input = Shape.of(Shape.DYNAMIC, 3, RESOLUTION, RESOLUTION);
        return new ModelSpec(name, FAMILY, variant, input,
                "VGG-" + depth + (batchNorm ? " with batch-norm" : ""),
                init -> NetworkBuilder.build(name, input, init, b -> network(b, config, batchNorm)));
    }

    /** Without batch-norm first, then with, each by depth. */
    static List<ModelSpec> all() {
        List<ModelSpec> specs = new ArrayList<>();
        for (boolean batchNorm : new boolean[] {false, true}) {
            DEPTHS.forEach(depth -> specs.add(spec(depth, batchNorm)));
        }
        return specs;
    }

    private static String network(NetworkBuilder b, int[] config, boolean batchNorm) {
        String x = b.input();
        int index = 0; // position in torchvision's features Sequential, which names the layers
        for (int channels : config) {
            if (channels == POOL) {
                x = b.maxPool("features." + index++, x, 2, 2, 0, false);
                continue;
            }
            x = b.conv("features." + index++, x, channels, 3, 1, 1, true);
            if (batchNorm) {
                x = b.batchNorm("features." + index++, x, BatchNormalization.DEFAULT_EPSILON);
            }
            x = b.relu("features." + index++, x);
        }
        Shape features = b.shape(x);
        if (features.dim(2) != 7 || features.dim(3) != 7) {
            throw new IllegalStateException("VGG's classifier needs a 7x7 feature map, got " + features);
        }
        x = b.flatten("flatten", x);
        x = b.fullyConnected("classifier.0", x, 4096);
        x = b.relu("classifier.1", x);
        x = b.dropout("classifier.2", x);
        x = b.fullyConnected("classifier.3", x, 4096);
        x = b.relu("classifier.4", x);
        x = b.dropout("classifier.5", x);
        return b.logits("classifier.6", x, 1000);
    }
}
