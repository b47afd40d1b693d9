package dev.kiln.models.image;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ImageNetLabelsTest {

    @Test
    void thousandClassesInTorchvisionOrder() {
        List<String> labels = ImageNetLabels.all();
        assertEquals(1000, labels.size());
        assertEquals("tench", ImageNetLabels.of(0));
        assertEquals("goldfish", ImageNetLabels.of(1));
        assertEquals("great white shark", ImageNetLabels.of(2));
        assertEquals("toilet tissue", ImageNetLabels.of(999));
    }

    @Test
    void labelsAreDistinctAndNeitherBlankNorPadded() {
        List<String> labels = ImageNetLabels.all();
        assertEquals(labels.size(), new HashSet<>(labels).size(), "distinct");
        for (String label : labels) {
            assertFalse(label.isBlank(), "blank label");
            assertEquals(label.strip(), label, "padded label");
        }
    }

    @Test
    void indexOutsideTheClassesIsRefused() {
        assertThrows(IndexOutOfBoundsException.class, () -> ImageNetLabels.of(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> ImageNetLabels.of(1000));
    }
}
