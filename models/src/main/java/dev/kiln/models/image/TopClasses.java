package dev.kiln.models.image;

import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A classifier's best classes: for each batch item, the k highest scores, best first (ties by
 * lower index), each with its probability and, when the item has ImageNet-1k's
 * {@value ImageNetLabels#COUNT} classes, its label. Logits go through a softmax; scores that
 * already are probabilities (each in [0, 1], summing to 1, as after a model's own Softmax) are
 * kept. What {@code kiln run} prints and the Spark transformer's {@code top} column holds.
 */
public final class TopClasses {
    /** How far from 1 the scores of an item may sum and still be taken for probabilities. */
    private static final double SUM_TOLERANCE = 1e-3;

    private TopClasses() {
    }

    /**
     * One of an item's best classes.
     *
     * @param index       the class index
     * @param label       the ImageNet-1k class name, or null when the item does not have 1000 classes
     * @param score       the output's value for the class, as the model wrote it
     * @param probability the score as a probability (a softmax of logits, or the score itself)
     */
    public record Ranked(int index, String label, float score, double probability) {
    }

    /** The k best classes of one item's scores. */
    public static List<Ranked> of(float[] scores, int k) {
        return of(scores, 0, scores.length, k);
    }

    /**
     * For each of the N items of an output of shape [N, ...] (its values per item taken as the
     * classes), the k best classes.
     *
     * @throws IllegalArgumentException for a tensor of rank 0 or with no batch item
     */
    public static List<List<Ranked>> of(Tensor output, int k) {
        if (output.shape().rank() == 0 || output.shape().dim(0) == 0) {
            throw new IllegalArgumentException("top classes need an output of shape [N, classes...] with N > 0, got "
                    + output.shape());
        }
        int batch = output.shape().dim(0);
        int classes = (int) (output.elementCount() / batch);
        float[] values = output.toFloatArray();
        List<List<Ranked>> result = new ArrayList<>(batch);
        for (int item = 0; item < batch; item++) {
            result.add(of(values, item * classes, classes, k));
        }
        return result;
    }

    private static List<Ranked> of(float[] values, int from, int classes, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        double[] p = probabilities(values, from, classes);
        boolean imageNet = classes == ImageNetLabels.COUNT;
        return IntStream.range(0, classes).boxed()
                .sorted(Comparator.comparingDouble((Integer c) -> -values[from + c]).thenComparingInt(c -> c))
                .limit(k)
                .map(c -> new Ranked(c, imageNet ? ImageNetLabels.of(c) : null, values[from + c], p[c]))
                .toList();
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
