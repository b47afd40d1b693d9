package dev.kiln.models.image;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopClassesTest {

    @Test
    void eachBatchItemBestFirstWithTiesByLowerIndex() {
        try (Tensor logits = Tensor.of(Shape.of(2, 4), 0.1f, 0.9f, 0.9f, -1f, 3f, 2f, 1f, 0f)) {
            List<List<TopClasses.Ranked>> top = TopClasses.of(logits, 3);
            assertEquals(List.of(1, 2, 0), top.get(0).stream().map(TopClasses.Ranked::index).toList());
            assertEquals(List.of(0.9f, 0.9f, 0.1f), top.get(0).stream().map(TopClasses.Ranked::score).toList());
            assertEquals(List.of(0, 1, 2), top.get(1).stream().map(TopClasses.Ranked::index).toList());
            assertNull(top.get(1).getFirst().label(), "four classes are not ImageNet's");
            double total = Math.exp(3) + Math.exp(2) + Math.exp(1) + Math.exp(0);
            assertEquals(Math.exp(3) / total, top.get(1).getFirst().probability(), 1e-12);
        }
    }

    @Test
    void imageNetLogitsGoThroughASoftmaxAndAreNamed() {
        float[] logits = new float[2000];
        logits[281] = 3; // item 0
        logits[1000 + 1] = 2; // item 1
        logits[1000 + 999] = 1;
        try (Tensor t = Tensor.of(Shape.of(2, 1000), logits)) {
            List<List<TopClasses.Ranked>> p = TopClasses.of(t, 2);
            double first = Math.exp(3) / (Math.exp(3) + 999);
            assertEquals(281, p.get(0).get(0).index());
            assertEquals("tabby", p.get(0).get(0).label());
            assertEquals(first, p.get(0).get(0).probability(), 1e-9);
            assertEquals(1 / (Math.exp(3) + 999), p.get(0).get(1).probability(), 1e-9);
            assertEquals("goldfish", p.get(1).get(0).label());
            assertEquals(Math.exp(2) / (Math.exp(2) + Math.exp(1) + 998), p.get(1).get(0).probability(), 1e-9);
            assertEquals("toilet tissue", p.get(1).get(1).label());
        }
    }

    @Test
    void probabilitiesAreKeptAsTheyAreWhateverTheShapeOfAnItem() {
        float[] probabilities = new float[1000];
        probabilities[0] = 0.75f;
        probabilities[2] = 0.25f;
        try (Tensor t = Tensor.of(Shape.of(1, 1000, 1, 1), probabilities)) {
            List<TopClasses.Ranked> p = TopClasses.of(t, 2).getFirst();
            assertEquals(0.75, p.get(0).probability(), 1e-7);
            assertEquals("tench", p.get(0).label());
            assertEquals(0.25, p.get(1).probability(), 1e-7);
            assertEquals("great white shark", p.get(1).label());
        }
        assertEquals(List.of(0, 2), TopClasses.of(probabilities, 2).stream().map(TopClasses.Ranked::index).toList());
    }

    @Test
    void anOutputWithoutABatchItemOrAKOfZeroIsRefused() {
        try (Tensor scalar = Tensor.allocate(Shape.of()); Tensor empty = Tensor.allocate(Shape.of(0, 10))) {
            var e = assertThrows(IllegalArgumentException.class, () -> TopClasses.of(scalar, 5));
            assertTrue(e.getMessage().contains("[N, classes...]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TopClasses.of(empty, 5));
        }
        assertThrows(IllegalArgumentException.class, () -> TopClasses.of(new float[] {1, 2}, 0));
    }
}
