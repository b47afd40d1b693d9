package dev.kiln.models;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Multiply-accumulates of one image, against published figures: torchvision's "GFLOPS" (which
 * count multiply-adds) for its models, and MobileNet v1's paper (Howard et al. 2017, Table 6
 * and 7: 569, 418, 290, 186 million at alpha 1.0; 325 and 149 million at 0.75 and 0.5 at 224).
 * Within 2%, since conventions differ on whether bias, pooling and elementwise ops count.
 */
class MacCountTest {

    @ParameterizedTest(name = "{0}: {1} G")
    @CsvSource({
            "vgg16, 15.47", "vgg19, 19.63", "googlenet, 1.50", "resnet18, 1.81", "resnet50, 4.09",
            "resnet152, 11.51", "mobilenet_v2, 0.30", "efficientnet_b0, 0.39", "efficientnet_b3, 1.83",
            "efficientnet_b7, 37.75",
            "mobilenet_v1, 0.569", "mobilenet_v1_1.0_192, 0.418", "mobilenet_v1_1.0_160, 0.290",
            "mobilenet_v1_1.0_128, 0.186", "mobilenet_v1_0.75_224, 0.325", "mobilenet_v1_0.5_224, 0.149"})
    void matchesPublishedFigures(String name, double expectedGiga) {
        double giga = Models.byName(name).macs() / 1e9;
        assertEquals(expectedGiga, giga, expectedGiga * 0.02, name + " has " + giga + " G MACs");
    }
}
