package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetPredictionsTest {

    @Test
    void logitsGoThroughASoftmax() {
        float[] logits = new float[2000];
        logits[281] = 3; // item 0
        logits[1000 + 1] = 2; // item 1
        logits[1000 + 999] = 1;
        try (Tensor t = Tensor.of(Shape.of(2, 1000), logits)) {
            assertTrue(ImageNetPredictions.applies(t));
            List<List<ImageNetPredictions.Prediction>> p = ImageNetPredictions.of(t, TopK.of(t, 2));
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
    void probabilitiesAreKeptAsTheyAre() {
        float[] probabilities = new float[1000];
        probabilities[0] = 0.75f;
        probabilities[2] = 0.25f;
        try (Tensor t = Tensor.of(Shape.of(1, 1000, 1, 1), probabilities)) {
            assertTrue(ImageNetPredictions.applies(t), "1000 values per item, whatever the shape");
            List<ImageNetPredictions.Prediction> p = ImageNetPredictions.of(t, TopK.of(t, 2)).getFirst();
            assertEquals(0.75, p.get(0).probability(), 1e-7);
            assertEquals("tench", p.get(0).label());
            assertEquals(0.25, p.get(1).probability(), 1e-7);
            assertEquals("great white shark", p.get(1).label());
        }
    }

    @Test
    void onlyOutputsOfAThousandClassesAreImageNetScores() {
        try (Tensor other = Tensor.allocate(1, 10); Tensor flat = Tensor.allocate(1000)) {
            assertFalse(ImageNetPredictions.applies(other));
            assertFalse(ImageNetPredictions.applies(flat), "no batch dimension");
        }
    }
}
