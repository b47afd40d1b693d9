package dev.kiln.models;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Learned parameters (batch-norm running statistics excluded), as torchvision counts them: its
 * published {@code num_params}, or {@code sum(p.numel() for p in model.parameters())} with
 * torchvision 0.14.1 where it publishes none. MobileNet v1's is the paper's architecture with
 * batch-norm scale and shift.
 */
class ParameterCountTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            "vgg11, 132863336", "vgg13, 133047848", "vgg16, 138357544", "vgg19, 143667240",
            "vgg11_bn, 132868840", "vgg13_bn, 133053736", "vgg16_bn, 138365992", "vgg19_bn, 143678248",
            "googlenet, 6624904",
            "resnet18, 11689512", "resnet34, 21797672", "resnet50, 25557032", "resnet101, 44549160",
            "resnet152, 60192808",
            "mobilenet_v1, 4231976",
            "mobilenet_v2, 3504872", "mobilenet_v2_0.35, 1677128", "mobilenet_v2_0.5, 1968680",
            "mobilenet_v2_0.75, 2636424", "mobilenet_v2_1.3, 5386792", "mobilenet_v2_1.4, 6108776",
            "efficientnet_b0, 5288548", "efficientnet_b1, 7794184", "efficientnet_b2, 9109994",
            "efficientnet_b3, 12233232", "efficientnet_b4, 19341616", "efficientnet_b5, 30389784",
            "efficientnet_b6, 43040704", "efficientnet_b7, 66347960"})
    void matchesTorchvision(String name, long expected) {
        assertEquals(expected, Models.byName(name).parameterCount());
    }

    @Test
    void mobileNetV1ResolutionDoesNotChangeTheParameters() {
        for (float alpha : MobileNetV1.ALPHAS) {
            long atFullResolution = MobileNetV1.spec(alpha, 224).parameterCount();
            for (int resolution : MobileNetV1.RESOLUTIONS) {
                assertEquals(atFullResolution, MobileNetV1.spec(alpha, resolution).parameterCount(),
                        "alpha " + alpha + " at " + resolution);
            }
        }
    }
}
