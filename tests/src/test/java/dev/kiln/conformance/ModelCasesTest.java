package dev.kiln.conformance;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.WeightInit;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCasesTest {

    @Test
    void oneCasePerFamilyRepresentative() {
        List<String> names = ModelCases.representatives().stream().map(Case::name).toList();
        List<String> expected = Models.representatives().stream()
                .map(spec -> spec.name() + " at " + (spec.family().equals("vgg") ? spec.resolution()
                        : spec.resolution() / 2) + "x")
                .toList();
        assertEquals(expected.size(), names.size());
        for (int i = 0; i < names.size(); i++) {
            assertTrue(names.get(i).startsWith(expected.get(i)), names.get(i) + " should start with " + expected.get(i));
        }
    }

    @Test
    void representativesAtABatchSizeRunAtThatBatch() {
        List<Case> atFour = ModelCases.representatives(4);
        assertEquals(ModelCases.representatives().size(), atFour.size());
        for (Case c : atFour) {
            assertEquals(4, c.batch(), c.name());
            assertTrue(c.name().endsWith(", batch 4"), c.name());
        }
        assertThrows(IllegalArgumentException.class, () -> ModelCases.representatives(0));
    }

    @Test
    void aFullyConvolutionalNetworkRunsAtHalfItsResolution() {
        Case c = ModelCases.reduced(Models.byName("resnet50"), 1);
        assertEquals("resnet50 at 112x112, batch 1", c.name());
        try (Graph g = c.buildGraph()) {
            assertEquals(Shape.of(Shape.DYNAMIC, 3, 112, 112), g.inputs().getFirst().shape());
            assertEquals(Shape.of(1, 1000), g.inferShapes(g.inputShapesForBatch(1)).get("logits"));
        }
    }

    @Test
    void aNetworkWithAFixedClassifierInputKeepsItsResolution() {
        // VGG's first fully connected layer reads exactly 7x7x512 features.
        try (Graph vgg = Models.byName("vgg11").build(WeightInit.ZEROS)) {
            assertNull(ModelCases.withResolution(vgg, 112));
            assertSame(vgg, ModelCases.withResolution(vgg, 224));
        }
    }

    @Test
    void refusesAResolutionTheArchitectureDoesNotAccept() {
        // A 16x16 input leaves GoogLeNet a 2x2 feature map before its third 3x3 max-pool, which
        // has no padding: the window does not fit.
        assertThrows(IllegalArgumentException.class, () -> ModelCases.of(Models.byName("googlenet"), 16, 1));
    }

    @Test
    void resizedGraphSharesTheWeights() {
        try (Graph declared = Models.byName("mobilenet_v1").build(WeightInit.ZEROS)) {
            Graph resized = ModelCases.withResolution(declared, 96);
            assertEquals(declared.initializers().keySet(), resized.initializers().keySet());
            declared.initializers().forEach((name, t) -> assertSame(t, resized.initializers().get(name)));
        }
    }

    @Test
    void toleranceGrowsWithDepthAndReductionLength() {
        try (Graph shallow = Models.byName("resnet18").build(WeightInit.ZEROS);
             Graph deep = Models.byName("resnet50").build(WeightInit.ZEROS)) {
            // Both reduce over at most 3x3x512 = 4608 terms; ResNet-18 has 21 reducing layers
            // (20 convolutions and the classifier), ResNet-50 54 (53 and the classifier).
            assertEquals(Tolerance.forNetwork(4608, 21), ModelCases.toleranceFor(shallow));
            assertEquals(Tolerance.forNetwork(4608, 54), ModelCases.toleranceFor(deep));
        }
    }
}
