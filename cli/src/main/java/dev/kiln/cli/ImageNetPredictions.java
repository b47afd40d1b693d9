package dev.kiln.cli;

import dev.kiln.Tensor;
import dev.kiln.models.image.ImageNetLabels;

import java.util.ArrayList;
import java.util.List;

/**
 * The best classes of an ImageNet classifier's output, named and with probabilities. An output
 * with 1000 values per batch item is taken for ImageNet-1k scores: logits go through a softmax,
 * while scores that already are probabilities (every value in [0, 1], each item summing to 1, as
 * after a model's own Softmax) are kept as they are.
 */
final class ImageNetPredictions {
    private static final double SUM_TOLERANCE = 1e-3;

    private ImageNetPredictions() {
    }

    /** One class, ranked by its score. */
    record Prediction(int index, String label, double probability) {
    }

    /** Whether the output looks like ImageNet-1k scores: [N, 1000] or any shape with 1000 values per item. */
    static boolean applies(Tensor output) {
        return output.shape().rank() >= 2 && output.shape().dim(0) > 0
                && output.elementCount() / output.shape().dim(0) == ImageNetLabels.COUNT;
    }

    /** For each batch item, its best classes as {@code top} ranks them, with labels and probabilities. */
    static List<List<Prediction>> of(Tensor output, List<List<TopK.Entry>> top) {
        float[] values = output.toFloatArray();
        int classes = ImageNetLabels.COUNT;
        List<List<Prediction>> result = new ArrayList<>(top.size());
        for (int item = 0; item < top.size(); item++) {
            double[] probabilities = probabilities(values, item * classes, classes);
            result.add(top.get(item).stream()
                    .map(e -> new Prediction(e.index(), ImageNetLabels.of(e.index()), probabilities[e.index()]))
                    .toList());
        }
        return result;
    }

    private static double[] probabilities(float[] values, int from, int count) {
        double[] p = new double[count];
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        boolean inUnitRange = true;
        for (int i = 0; i < count; i++) {
            float v = values[from + i];
            max = Math.max(max, v);
            sum += v;
            inUnitRange &= v >= 0 && v <= 1;
        }
        if (inUnitRange && Math.abs(sum - 1) <= SUM_TOLERANCE) {
            for (int i = 0; i < count; i++) {
                p[i] = values[from + i];
            }
            return p;
        }
        // Subtracting the largest logit keeps exp from overflowing.
        double total = 0;
        for (int i = 0; i < count; i++) {
            p[i] = Math.exp(values[from + i] - max);
            total += p[i];
        }
        for (int i = 0; i < count; i++) {
            p[i] /= total;
        }
        return p;
    }
}
