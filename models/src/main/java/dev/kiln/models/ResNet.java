package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.ops.BatchNormalization;

import java.util.Arrays;
import java.util.List;

/**
 * ResNet-18/34/50/101/152 (He et al. 2015) as torchvision 0.14 builds them: BasicBlock for 18
 * and 34, Bottleneck for the others with the stride on the 3x3 convolution ("ResNet v1.5"),
 * projection shortcuts (1x1 convolution and batch-norm) wherever the shape changes, and
 * convolutions without bias.
 */
public final class ResNet {
    public static final String FAMILY = "resnet";
    public static final List<Integer> DEPTHS = List.of(18, 34, 50, 101, 152);

    private static final float BN_EPSILON = BatchNormalization.DEFAULT_EPSILON;

    private ResNet() {
    }

    /** The ResNet of this depth: 18, 34, 50, 101 or 152. */
    public static ModelSpec spec(int depth) {
        int[] blocks = switch (depth) {
            case 18 -> new int[] {2, 2, 2, 2};
            case 34, 50 -> new int[] {3, 4, 6, 3};
            case 101 -> new int[] {3, 4, 23, 3};
            case 152 -> new int[] {3, 8, 36, 3};
            default -> throw new IllegalArgumentException("no ResNet of depth " + depth + "; known depths: " + DEPTHS);
        };
        boolean bottleneck = depth >= 50;
        String name = "resnet" + depth;
        Shape input = Shape.of(Shape.DYNAMIC, 3, 224, 224);
        return new ModelSpec(name, FAMILY, Integer.toString(depth), input,
                "ResNet-" + depth + ", " + (bottleneck ? "bottleneck" : "basic") + " blocks " + Arrays.toString(blocks),
                init -> NetworkBuilder.build(name, input, init, b -> network(b, blocks, bottleneck)));
    }

    static List<ModelSpec> all() {
        return DEPTHS.stream().map(ResNet::spec).toList();
    }

    private static String network(NetworkBuilder b, int[] blocks, boolean bottleneck) {
        String x = b.conv("conv1", b.input(), 64, 7, 2);
        x = b.batchNorm("bn1", x, BN_EPSILON);
        x = b.relu("relu", x);
        x = b.maxPool("maxpool", x, 3, 2, 1, false);
        for (int stage = 0; stage < blocks.length; stage++) {
            int planes = 64 << stage;
            for (int i = 0; i < blocks[stage]; i++) {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                String prefix = "layer" + (stage + 1) + "." + i;
                x = bottleneck ? bottleneck(b, prefix, x, planes, stride) : basicBlock(b, prefix, x, planes, stride);
            }
        }
        x = b.globalAveragePool("avgpool", x);
        x = b.flatten("flatten", x);
        return b.logits("fc", x, 1000);
    }

    /** Two 3x3 convolutions; expansion 1. */
    private static String basicBlock(NetworkBuilder b, String prefix, String x, int planes, int stride) {
        String out = b.conv(prefix + ".conv1", x, planes, 3, stride);
        out = b.batchNorm(prefix + ".bn1", out, BN_EPSILON);
        out = b.relu(prefix + ".relu", out);
        out = b.conv(prefix + ".conv2", out, planes, 3, 1);
        out = b.residualBatchNorm(prefix + ".bn2", out, BN_EPSILON);
        return closeBlock(b, prefix, x, out, planes, stride);
    }

    /** 1x1 reduce, 3x3 (strided), 1x1 expand by 4. */
    private static String bottleneck(NetworkBuilder b, String prefix, String x, int planes, int stride) {
        String out = b.conv(prefix + ".conv1", x, planes, 1, 1);
        out = b.batchNorm(prefix + ".bn1", out, BN_EPSILON);
        out = b.relu(prefix + ".relu", out);
        out = b.conv(prefix + ".conv2", out, planes, 3, stride);
        out = b.batchNorm(prefix + ".bn2", out, BN_EPSILON);
        out = b.relu(prefix + ".relu", out);
        out = b.conv(prefix + ".conv3", out, planes * 4, 1, 1);
        out = b.residualBatchNorm(prefix + ".bn3", out, BN_EPSILON);
        return closeBlock(b, prefix, x, out, planes * 4, stride);
    }

    /** Adds the shortcut (projected when the shape changes) and applies the block's last ReLU. */
    private static String closeBlock(NetworkBuilder b, String prefix, String x, String out, int outChannels,
                                     int stride) {
        String identity = x;
        if (stride != 1 || b.channels(x) != outChannels) {
            identity = b.conv(prefix + ".downsample.0", x, outChannels, 1, stride);
            identity = b.batchNorm(prefix + ".downsample.1", identity, BN_EPSILON);
        }
        return b.relu(prefix + ".relu", b.add(prefix + ".add", out, identity));
    }
}
