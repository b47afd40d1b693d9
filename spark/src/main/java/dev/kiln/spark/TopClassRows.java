package dev.kiln.spark;

import dev.kiln.models.image.TopClasses;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The k best classes of one item's scores ({@link TopClasses}: best first, ties by lower index,
 * probabilities, ImageNet labels for 1000 classes) as rows of {@code struct<index:int,
 * label:string, score:float>}, where score is the probability and label null for other outputs.
 */
final class TopClassRows {
    static final StructType SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("label", DataTypes.StringType, true)
            .add("score", DataTypes.FloatType, false);

    private TopClassRows() {
    }

    /** As an array, which Spark's row encoder takes for an array column (a Java list it does not). */
    static Row[] of(float[] scores, int k) {
        return TopClasses.of(scores, k).stream()
                .map(c -> RowFactory.create(c.index(), c.label(), (float) c.probability()))
                .toArray(Row[]::new);
    }
}
