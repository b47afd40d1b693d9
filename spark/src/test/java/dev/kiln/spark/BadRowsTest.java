package dev.kiln.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rows that cannot be inputs get null outputs and a reason; the other rows of their batch are unaffected. */
class BadRowsTest {
    private static final String MODEL = TransformerParityTest.MODEL;

    @TempDir
    Path dir;

    @Test
    void corruptAndNonImageFilesLandInTheErrorColumn() throws Exception {
        Path images = dir.resolve("images");
        List<Path> good = TestImages.writeJpegs(images, 3, 11);
        byte[] whole = Files.readAllBytes(good.getFirst());
        Files.write(images.resolve("truncated.jpg"), Arrays.copyOf(whole, 300));
        Files.writeString(images.resolve("notes.txt"), "not an image");

        Dataset<Row> in = LocalSpark.session().read().format("binaryFile").load(images.toString());
        List<Row> rows = new KilnTransformer().setModel(MODEL).setBackend("cpu-simd").setSelection("rank")
                .setBatchSize(4).transform(in).select("path", "logits", "top", "error").collectAsList();

        assertEquals(5, rows.size());
        int fine = 0;
        for (Row row : rows) {
            String path = row.getAs("path");
            String error = row.getAs("error");
            if (path.endsWith("truncated.jpg")) {
                assertNotNull(error, path);
                assertTrue(error.contains("truncated.jpg") && error.contains("cannot decode"), error);
                assertNull(row.getAs("logits"));
                assertNull(row.getAs("top"));
            } else if (path.endsWith("notes.txt")) {
                assertNotNull(error, path);
                assertTrue(error.contains("notes.txt") && error.contains("not an image"), error);
                assertNull(row.getAs("logits"));
            } else {
                assertNull(error, path);
                assertEquals(1000, row.getList(row.fieldIndex("logits")).size());
                List<Row> top = row.getList(row.fieldIndex("top"));
                assertEquals(5, top.size());
                assertNotNull(top.getFirst().getAs("label"), "an ImageNet classifier's classes are named");
                fine++;
            }
        }
        assertEquals(3, fine);
    }

    @Test
    void wrongSizedTensorsLandInTheErrorColumn() {
        int[] item = {3, 128, 128};
        float[] values = new float[3 * 128 * 128];
        Random random = new Random(1);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("x", DataTypes.createArrayType(DataTypes.FloatType, true), true);
        List<Row> data = new ArrayList<>();
        data.add(RowFactory.create(0, boxed(values)));
        data.add(RowFactory.create(1, boxed(new float[10])));
        data.add(RowFactory.create(2, null));
        Dataset<Row> in = LocalSpark.session().createDataFrame(data, schema).coalesce(1);

        List<Row> rows = new KilnTransformer().setModel(MODEL).setBackend("cpu-simd").setSelection("rank")
                .setInputCol("x").setInputShape(item).transform(in).orderBy("id")
                .select("id", "logits", "error").collectAsList();

        assertNull(rows.get(0).getAs("error"));
        try (DirectRun direct = new DirectRun(MODEL, 42, "cpu-simd", 2)) {
            float[] expected = direct.run(List.of(values), item).getFirst();
            assertArrayEquals(expected, TransformerParityTest.floats(rows.get(0).getList(1)), 0f,
                    "a batch of one good tensor, as run directly");
        }
        assertEquals("a tensor of 10 values, but the declared shape [3, 128, 128] needs 49152", rows.get(1).<String>getAs("error"));
        assertNull(rows.get(1).getAs("logits"));
        assertEquals("no tensor (null)", rows.get(2).<String>getAs("error"));
    }

    private static List<Float> boxed(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float v : values) {
            list.add(v);
        }
        return list;
    }
}
