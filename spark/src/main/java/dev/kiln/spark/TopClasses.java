package dev.kiln.spark;

import dev.kiln.models.image.ImageNetLabels;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The k best classes of one item's scores, as rows of {@code struct<index:int, label:string,
 * score:float>}, best first (ties by lower index, as {@code kiln run} ranks them). The score is a
 * probability: logits go through a softmax, while scores that already are probabilities (each in
 * [0, 1], summing to 1, after a model's own Softmax) are kept. The label is the ImageNet-1k class
 * name for an output of 1000 classes, else null.
 */
final class TopClasses {
    static final StructType SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("label", DataTypes.StringType, true)
            .add("score", DataTypes.FloatType, false);
    private static final double SUM_TOLERANCE = 1e-3;

    private TopClasses() {
    }

    /** As an array, which Spark's row encoder takes for an array column (a Java list it does not). */
    static Row[] of(float[] scores, int k) {
        double[] p = probabilities(scores);
        boolean imageNet = scores.length == ImageNetLabels.COUNT;
        List<Row> top = new ArrayList<>(Math.min(k, scores.length));
        IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.comparingDouble((Integer c) -> -scores[c]).thenComparingInt(c -> c))
                .limit(k)
                .forEach(c -> top.add(RowFactory.create(c, imageNet ? ImageNetLabels.of(c) : null, (float) p[c])));
        return top.toArray(Row[]::new);
    }

    private static double[] probabilities(float[] v) {
        double[] p = new double[v.length];
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        boolean inUnitRange = true;
        for (float x : v) {
            max = Math.max(max, x);
            sum += x;
            inUnitRange &= x >= 0 && x <= 1;
        }
        if (inUnitRange && Math.abs(sum - 1) <= SUM_TOLERANCE) {
            for (int i = 0; i < v.length; i++) {
                p[i] = v[i];
            }
            return p;
        }
        double total = 0;
        for (int i = 0; i < v.length; i++) {
            p[i] = Math.exp(v[i] - max); // minus the largest: exp cannot overflow
            total += p[i];
        }
        for (int i = 0; i < v.length; i++) {
            p[i] /= total;
        }
        return p;
    }
}
