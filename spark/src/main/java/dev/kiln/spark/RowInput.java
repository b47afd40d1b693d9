package dev.kiln.spark;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.models.image.ImageNetPreprocessing;
import org.apache.spark.sql.Row;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Turns one row's input value into the values of one batch item of the model's input
 * ([C, H, W] for an image model), or says why it cannot, for the row's error column. Two kinds
 * of input column: encoded image bytes (Spark's {@code binaryFile} source, its {@code content}
 * column), preprocessed as {@code kiln run --image} does; or {@code array<float>} tensors whose
 * declared shape must be the model's item shape.
 */
abstract sealed class RowInput {
    /** A row that cannot be an input: its message goes to the error column. */
    static final class BadRow extends Exception {
        BadRow(String message) {
            super(message, null, false, false);
        }
    }

    /** The values of one batch item, {@code itemShape().elementCount()} of them. */
    abstract float[] read(Row row) throws BadRow;

    static RowInput images(Shape itemShape, int column, int pathColumn) {
        return new Images(itemShape, column, pathColumn);
    }

    static RowInput tensors(Shape itemShape, int column) {
        return new Tensors(itemShape, column);
    }

    private static final class Images extends RowInput {
        private final ImageNetPreprocessing preprocessing;
        private final int column;
        private final int pathColumn;

        Images(Shape itemShape, int column, int pathColumn) {
            if (itemShape.rank() != 3 || itemShape.dim(0) != 3) {
                throw new IllegalArgumentException("image bytes make an RGB image [3, H, W], but the model's input"
                        + " item is " + itemShape + ": give array<float> tensors with inputShape instead");
            }
            this.preprocessing = ImageNetPreprocessing.forInputSize(itemShape.dim(1), itemShape.dim(2));
            this.column = column;
            this.pathColumn = pathColumn;
        }

        @Override
        float[] read(Row row) throws BadRow {
            String source = pathColumn >= 0 && !row.isNullAt(pathColumn) ? row.getString(pathColumn) : "image";
            if (row.isNullAt(column)) {
                throw new BadRow(source + ": no image (null)");
            }
            byte[] encoded = (byte[]) row.get(column);
            try (Tensor image = preprocessing.read(encoded, source)) {
                return image.toFloatArray();
            } catch (IOException | RuntimeException e) {
                throw new BadRow(e.getMessage());
            }
        }
    }

    private static final class Tensors extends RowInput {
        private final Shape itemShape;
        private final int column;

        Tensors(Shape itemShape, int column) {
            this.itemShape = itemShape;
            this.column = column;
        }

        @Override
        float[] read(Row row) throws BadRow {
            if (row.isNullAt(column)) {
                throw new BadRow("no tensor (null)");
            }
            List<Float> values = row.getList(column);
            long expected = itemShape.elementCount();
            if (values.size() != expected) {
                throw new BadRow("a tensor of " + values.size() + " values, but the declared shape "
                        + Arrays.toString(itemShape.dims()) + " needs " + expected);
            }
            float[] item = new float[values.size()];
            for (int i = 0; i < item.length; i++) {
                Float v = values.get(i);
                if (v == null) {
                    throw new BadRow("the tensor's value " + i + " is null");
                }
                item[i] = v;
            }
            return item;
        }
    }
}
