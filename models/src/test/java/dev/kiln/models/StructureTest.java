package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MaxPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spot checks of each family's structure against facts about torchvision's (and the papers') networks. */
class StructureTest {

    static Stream<ModelSpec> allModels() {
        return Models.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allModels")
    void takesImagesAndGivesThousandLogitsAtAnyBatch(ModelSpec spec) {
        try (Graph graph = spec.build(WeightInit.ZEROS)) {
            assertEquals(List.of("input"), graph.inputs().stream().map(v -> v.name()).toList());
            assertEquals(spec.inputShape(), graph.inputs().getFirst().shape());
            assertEquals(List.of("logits"), graph.outputs());
            assertEquals(Shape.of(3, 1000), graph.inferShapes(graph.inputShapesForBatch(3)).get("logits"));
            assertEquals(spec.name(), graph.name());
        }
    }

    @Test
    void googLeNetPoolsInCeilModeAndConcatenatesFourBranches() {
        try (Graph graph = Models.byName("googlenet").build(WeightInit.ZEROS)) {
            Map<String, Shape> shapes = shapesAtBatch1(graph);
            // Floor mode would give 55x55 here: (112 - 3) / 2 + 1.
            assertEquals(Shape.of(1, 64, 56, 56), shapes.get("maxpool1"));
            assertEquals(Shape.of(1, 192, 28, 28), shapes.get("maxpool2"));
            assertEquals(Shape.of(1, 256, 28, 28), shapes.get("inception3a"));
            assertEquals(Shape.of(1, 480, 14, 14), shapes.get("maxpool3"));
            assertEquals(Shape.of(1, 832, 7, 7), shapes.get("maxpool4"));
            assertEquals(Shape.of(1, 1024, 7, 7), shapes.get("inception5b"));
            assertEquals(9, count(graph, n -> n.op().type().equals("Concat")));
            assertEquals(57, count(graph, n -> n.op() instanceof Conv));
            assertTrue(graph.nodes().stream().filter(n -> n.op() instanceof MaxPool)
                    .allMatch(n -> ((MaxPool) n.op()).ceilMode()));
            // torchvision's "5x5" branch is really 3x3.
            assertEquals(Shape.of(32, 16, 3, 3), graph.initializers().get("inception3a.branch3.1.conv.weight").shape());
            assertBatchNormEpsilon(graph, 0.001f);
        }
    }

    @Test
    void resNet50HasSixteenBottlenecksWithTheStrideOnThe3x3() {
        try (Graph graph = Models.byName("resnet50").build(WeightInit.ZEROS)) {
            Map<String, Shape> shapes = shapesAtBatch1(graph);
            assertEquals(16, count(graph, n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.ADD));
            assertEquals(53, count(graph, n -> n.op() instanceof Conv)); // 49 in the path, 4 projections
            assertEquals(Shape.of(1, 64, 56, 56), shapes.get("maxpool"));
            // v1.5: the first block of layer2 keeps 56x56 through conv1 and halves it in conv2.
            assertEquals(Shape.of(1, 128, 56, 56), shapes.get("layer2.0.conv1"));
            assertEquals(Shape.of(1, 128, 28, 28), shapes.get("layer2.0.conv2"));
            assertEquals(Shape.of(1, 2048, 7, 7), shapes.get("layer4.2.relu_2"));
            assertBatchNormEpsilon(graph, 1e-5f);
        }
    }

    @Test
    void resNet18UsesBasicBlocks() {
        try (Graph graph = Models.byName("resnet18").build(WeightInit.ZEROS)) {
            assertEquals(8, count(graph, n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.ADD));
            assertEquals(20, count(graph, n -> n.op() instanceof Conv)); // 1 + 16 + 3 projections
            assertEquals(Shape.of(1, 512, 7, 7), shapesAtBatch1(graph).get("layer4.1.relu_1"));
        }
    }

    @Test
    void vgg16HasThirteenConvolutionsAndBatchNormOnlyInItsBnVariant() {
        try (Graph plain = Models.byName("vgg16").build(WeightInit.ZEROS);
             Graph withBn = Models.byName("vgg16_bn").build(WeightInit.ZEROS)) {
            assertEquals(13, count(plain, n -> n.op() instanceof Conv));
            assertEquals(0, count(plain, n -> n.op() instanceof BatchNormalization));
            assertEquals(13, count(withBn, n -> n.op() instanceof BatchNormalization));
            assertEquals(3, count(plain, n -> n.op().type().equals("Gemm")));
            assertEquals(2, count(plain, n -> n.op().type().equals("Dropout")));
            assertEquals(Shape.of(1, 512, 7, 7), shapesAtBatch1(plain).get("features.30"));
            assertEquals(Shape.of(4096, 25088), plain.initializers().get("classifier.0.weight").shape());
        }
    }

    @Test
    void mobileNetV1IsThirteenDepthwiseSeparableBlocks() {
        try (Graph graph = Models.byName("mobilenet_v1").build(WeightInit.ZEROS)) {
            assertEquals(13, count(graph, StructureTest::isDepthwise));
            assertEquals(27, count(graph, n -> n.op() instanceof Conv));
            assertEquals(27, count(graph, n -> n.op() instanceof BatchNormalization));
            assertEquals(Shape.of(1, 1024, 7, 7), shapesAtBatch1(graph).get("features.13.5"));
        }
        try (Graph graph = Models.byName("mobilenet_v1_0.25_128").build(WeightInit.ZEROS)) {
            assertEquals(Shape.of(1, 256, 4, 4), shapesAtBatch1(graph).get("features.13.5"));
        }
    }

    @Test
    void mobileNetV2HasTenResidualBlocksAndReLU6() {
        try (Graph graph = Models.byName("mobilenet_v2").build(WeightInit.ZEROS)) {
            assertEquals(10, count(graph, n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.ADD));
            assertEquals(17, count(graph, StructureTest::isDepthwise));
            assertEquals(35, count(graph, n -> n.op() instanceof Activation a
                    && a.function().equals(ActivationFunction.RELU6)));
            assertEquals(Shape.of(1, 1280, 7, 7), shapesAtBatch1(graph).get("features.18.2"));
        }
        try (Graph graph = Models.byName("mobilenet_v2_1.4").build(WeightInit.ZEROS)) {
            assertEquals(Shape.of(1, 1792, 7, 7), shapesAtBatch1(graph).get("features.18.2"));
        }
        try (Graph graph = Models.byName("mobilenet_v2_0.5").build(WeightInit.ZEROS)) {
            // The last convolution never narrows below 1280.
            assertEquals(Shape.of(1, 1280, 7, 7), shapesAtBatch1(graph).get("features.18.2"));
        }
    }

    @Test
    void efficientNetB0HasSixteenMbConvBlocksWithSqueezeExcitation() {
        try (Graph graph = Models.byName("efficientnet_b0").build(WeightInit.ZEROS)) {
            Map<String, Shape> shapes = shapesAtBatch1(graph);
            assertEquals(16, count(graph, StructureTest::isDepthwise));
            assertEquals(16, count(graph, n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.MUL));
            assertEquals(16, count(graph, n -> n.op() instanceof Activation a
                    && a.function().equals(ActivationFunction.SIGMOID)));
            assertEquals(9, count(graph, n -> n.op() instanceof Binary b && b.kind() == Binary.Kind.ADD));
            assertEquals(2 + 3 + 4, count(graph, n -> isDepthwise(n) && ((Conv) n.op()).window().kernelH() == 5));
            assertEquals(Shape.of(1, 1280, 7, 7), shapes.get("features.8.2"));
            // The gate is [N, C, 1, 1], broadcast over the block's [N, C, H, W].
            assertEquals(Shape.of(1, 96, 1, 1), shapes.get("features.2.0.block.2.scale_activation"));
            assertEquals(Shape.of(1, 96, 56, 56), shapes.get("features.2.0.block.2.mul"));
            // Squeeze to a quarter of the block's input channels (16), not of the expanded 96.
            assertEquals(Shape.of(4, 96, 1, 1), graph.initializers().get("features.2.0.block.2.fc1.weight").shape());
            assertBatchNormEpsilon(graph, 1e-5f);
        }
    }

    @Test
    void efficientNetB7IsDeeperWiderAndTakes600Pixels() {
        ModelSpec spec = Models.byName("efficientnet_b7");
        assertEquals(Shape.of(Shape.DYNAMIC, 3, 600, 600), spec.inputShape());
        try (Graph graph = spec.build(WeightInit.ZEROS)) {
            // ceil(n * 3.1) repeats of the 1, 2, 2, 3, 3, 4, 1 B0 stages.
            assertEquals(4 + 7 + 7 + 10 + 10 + 13 + 4, count(graph, StructureTest::isDepthwise));
            assertEquals(Shape.of(1, 2560, 19, 19), shapesAtBatch1(graph).get("features.8.2"));
            assertBatchNormEpsilon(graph, 1e-3f);
        }
    }

    private static boolean isDepthwise(Node n) {
        return n.op() instanceof Conv c && c.groups() > 1;
    }

    private static void assertBatchNormEpsilon(Graph graph, float epsilon) {
        graph.nodes().stream().filter(n -> n.op() instanceof BatchNormalization).forEach(n ->
                assertEquals(epsilon, ((BatchNormalization) n.op()).epsilon(), n.describe()));
    }

    private static long count(Graph graph, Predicate<Node> which) {
        return graph.nodes().stream().filter(which).count();
    }

    private static Map<String, Shape> shapesAtBatch1(Graph graph) {
        return graph.inferShapes(graph.inputShapesForBatch(1));
    }
}
