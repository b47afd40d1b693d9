package dev.kiln.cli;

import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/** The highest scores of each batch item of a [N, classes...] output. */
final class TopK {
    private TopK() {
    }

    /** One class index and its score. */
    record Entry(int index, float value) {
        /** As JSON writes it: {@code [index, value]}. */
        List<Number> pair() {
            return List.of(index, value);
        }
    }

    /** For each of the N items, its k best classes, best first (ties by lower index). */
    static List<List<Entry>> of(Tensor output, int k) {
        int batch = output.shape().dim(0);
        int classes = (int) (output.elementCount() / batch);
        float[] values = output.toFloatArray();
        List<List<Entry>> result = new ArrayList<>(batch);
        for (int item = 0; item < batch; item++) {
            int base = item * classes;
            result.add(IntStream.range(0, classes)
                    .mapToObj(c -> new Entry(c, values[base + c]))
                    .sorted(Comparator.comparingDouble((Entry e) -> -e.value()).thenComparingInt(Entry::index))
                    .limit(k)
                    .toList());
        }
        return result;
    }
}
