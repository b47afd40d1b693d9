package dev.kiln.models.image;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The names of the 1000 ImageNet-1k classes, by class index, in the order torchvision's
 * pretrained classifiers use: index 0 is "tench", 999 "toilet tissue". They ship as the resource
 * {@value #RESOURCE}; its README says where the list comes from.
 */
public final class ImageNetLabels {
    /** Classes of ImageNet-1k, and so logits of an ImageNet classifier. */
    public static final int COUNT = 1000;
    static final String RESOURCE = "/dev/kiln/models/imagenet/labels.txt";

    private ImageNetLabels() {
    }

    /** All 1000 names, by class index. */
    public static List<String> all() {
        return Loaded.LABELS;
    }

    /**
     * The name of one class.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < 1000}
     */
    public static String of(int index) {
        if (index < 0 || index >= COUNT) {
            throw new IndexOutOfBoundsException("ImageNet class index must be in [0, " + COUNT + "), got " + index);
        }
        return Loaded.LABELS.get(index);
    }

    // Read on first use only: most runs print no labels.
    private static final class Loaded {
        static final List<String> LABELS = read();

        private static List<String> read() {
            try (InputStream in = ImageNetLabels.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("the resource " + RESOURCE + " is missing from the class path");
                }
                List<String> labels = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                        .lines().toList();
                if (labels.size() != COUNT) {
                    throw new IllegalStateException(RESOURCE + " holds " + labels.size() + " labels, not " + COUNT);
                }
                return labels;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
        }
    }
}
