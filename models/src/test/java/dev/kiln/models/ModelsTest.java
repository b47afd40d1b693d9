package dev.kiln.models;

import dev.kiln.Shape;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelsTest {

    @Test
    void everyNameTheCliDocumentsIsKnown() {
        for (String name : List.of("vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
                "vgg19_bn", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                "mobilenet_v1", "mobilenet_v1_0.75_192", "mobilenet_v1_0.5_160", "mobilenet_v1_0.25_128",
                "mobilenet_v2", "mobilenet_v2_0.5", "mobilenet_v2_0.75", "mobilenet_v2_1.4",
                "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
                "efficientnet_b5", "efficientnet_b6", "efficientnet_b7")) {
            assertEquals(name, Models.byName(name).name());
        }
    }

    @Test
    void mobileNetV1HasEverySixteenAlphaAndResolutionPair() {
        for (float alpha : new float[] {1.0f, 0.75f, 0.5f, 0.25f}) {
            for (int resolution : new int[] {224, 192, 160, 128}) {
                ModelSpec spec = Models.byName("mobilenet_v1_" + alpha + "_" + resolution);
                assertEquals(Shape.of(Shape.DYNAMIC, 3, resolution, resolution), spec.inputShape());
            }
        }
    }

    @Test
    void defaultsAnswerToTheirFullNames() {
        assertSame(Models.byName("mobilenet_v1"), Models.byName("mobilenet_v1_1.0_224"));
        assertSame(Models.byName("mobilenet_v2"), Models.byName("mobilenet_v2_1.0"));
        assertTrue(Models.names().contains("mobilenet_v1_1.0_224"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Models.byName("resnet51"));
        assertTrue(e.getMessage().contains("'resnet51'"), e.getMessage());
        assertTrue(e.getMessage().contains("resnet50") && e.getMessage().contains("efficientnet_b7"), e.getMessage());
    }

    @Test
    void allHasUniqueNamesInAStableOrderFamilyByFamily() {
        List<ModelSpec> all = Models.all();
        Set<String> names = new HashSet<>();
        all.forEach(spec -> assertTrue(names.add(spec.name()), "duplicate " + spec.name()));
        assertEquals(all, Models.all());
        assertEquals("vgg11", all.getFirst().name());
        assertEquals("efficientnet_b7", all.getLast().name());
        List<String> families = all.stream().map(ModelSpec::family).distinct().toList();
        assertEquals(List.of("vgg", "googlenet", "resnet", "mobilenet_v1", "mobilenet_v2", "efficientnet"), families);
        // Each family's specs are contiguous.
        for (String family : families) {
            int first = -1, last = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).family().equals(family)) {
                    first = first < 0 ? i : first;
                    last = i;
                }
            }
            int members = (int) all.stream().filter(s -> s.family().equals(family)).count();
            assertEquals(members, last - first + 1, family + " is split");
        }
    }

    @Test
    void representativesAreOnePerFamily() {
        assertEquals(List.of("vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0"),
                Models.representatives().stream().map(ModelSpec::name).toList());
    }

    @Test
    void programmaticVariantsAreNamedLikeTheRegisteredOnes() {
        assertEquals("mobilenet_v1_0.5_160", MobileNetV1.spec(0.5f, 160).name());
        assertEquals("mobilenet_v1", MobileNetV1.spec(1.0f, 224).name());
        assertEquals("mobilenet_v1_0.6_200", MobileNetV1.spec(0.6f, 200).name());
        assertEquals("mobilenet_v2_0.35", MobileNetV2.spec(0.35f).name());
        assertEquals("mobilenet_v2", MobileNetV2.spec(1.0f).name());
        assertEquals("resnet101", ResNet.spec(101).name());
        assertEquals("vgg13_bn", Vgg.spec(13, true).name());
        assertEquals("efficientnet_b5", EfficientNet.spec(5).name());
        assertEquals(Models.byName("mobilenet_v1_0.5_160"), MobileNetV1.spec(0.5f, 160));
        assertEquals(Shape.of(Shape.DYNAMIC, 3, 200, 200), MobileNetV1.spec(0.6f, 200).inputShape());
    }

    @Test
    void impossibleVariantsAreRejectedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResNet.spec(42)).getMessage().contains("42"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Vgg.spec(17, false)).getMessage()
                .contains("17"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EfficientNet.spec(8)).getMessage()
                .contains("B8"));
        assertThrows(IllegalArgumentException.class, () -> MobileNetV1.spec(0f, 224));
        assertThrows(IllegalArgumentException.class, () -> MobileNetV1.spec(0.01f, 224));
        assertThrows(IllegalArgumentException.class, () -> MobileNetV1.spec(1f, 16));
        assertThrows(IllegalArgumentException.class, () -> MobileNetV2.spec(-1f));
    }
}
