package dev.kiln.spark;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generated JPEGs through the transformer on {@code local[2]} give the logits and top-5 that
 * Kiln gives on the same files without Spark, bitwise, batched the same way; the model is
 * compiled once in the JVM however many partitions run; a saved and loaded pipeline gives the
 * same output.
 *
 * <p>Model and count: MobileNet v1 0.25 at 128x128 (1000 classes, 15 M multiply-adds an
 * image), so that 200 images, run twice by Spark and once directly, take seconds of the shared
 * 2-core CI host instead of the minutes ResNet-50 would; what is tested (decode, batching,
 * partitions, the cache, persistence) does not depend on the network's size.
 */
class TransformerParityTest {
    static final String MODEL = "mobilenet_v1_0.25_128";
    static final String BACKEND = "cpu-simd";
    static final int IMAGES = 200;
    static final int BATCH = 16;

    @TempDir
    static Path dir;
    static List<Path> files;

    @BeforeAll
    static void writeImages() throws Exception {
        files = TestImages.writeJpegs(dir.resolve("images"), IMAGES, 7);
        TestImages.writeJpegs(dir.resolve("few"), 24, 8);
    }

    /** Each test its own seed, so that each compiles its own model and can count compiles. */
    static KilnTransformer transformer(long seed) {
        return new KilnTransformer().setModel(MODEL).setSeed(seed).setBackend(BACKEND).setSelection("rank")
                .setBatchSize(BATCH);
    }

    static Dataset<Row> images() {
        return LocalSpark.session().read().format("binaryFile").load(dir.resolve("images").toString())
                .withColumn("partition", functions.spark_partition_id());
    }

    @Test
    void sameLogitsAndTopFiveAsKilnWithoutSparkCompiledOnce() throws Exception {
        int compiledBefore = ExecutorModels.compilations();
        List<Row> rows = transformer(3).transform(images()).select("path", "partition", "logits", "top", "error")
                .collectAsList();
        assertEquals(IMAGES, rows.size());
        int compiled = ExecutorModels.compilations() - compiledBefore;

        // The transformer batches each partition's rows in order; run the same batches directly.
        Map<Integer, List<Row>> byPartition = new LinkedHashMap<>();
        for (Row row : rows) {
            assertNull(row.getAs("error"), () -> "unexpected error: " + row.getAs("error"));
            byPartition.computeIfAbsent(row.<Integer>getAs("partition"), p -> new ArrayList<>()).add(row);
        }
        assertTrue(byPartition.size() > 2, "the test needs more partitions than cores, got " + byPartition.size());
        assertEquals(1, compiled, "compiled once in this JVM for " + byPartition.size() + " partitions");

        try (DirectRun direct = new DirectRun(MODEL, 3, BACKEND, 2)) {
            int checked = 0;
            for (List<Row> partition : byPartition.values()) {
                for (int from = 0; from < partition.size(); from += BATCH) {
                    List<Row> batch = partition.subList(from, Math.min(partition.size(), from + BATCH));
                    List<Path> batchFiles = batch.stream().map(r -> Path.of(URI.create(r.<String>getAs("path")))).toList();
                    List<float[]> expected = direct.runImages(batchFiles);
                    for (int i = 0; i < batch.size(); i++) {
                        Row row = batch.get(i);
                        String path = row.getAs("path");
                        float[] logits = floats(row.getList(row.fieldIndex("logits")));
                        assertArrayEquals(expected.get(i), logits, 0f, path);
                        assertEquals(topFive(expected.get(i)), indices(row.getList(row.fieldIndex("top"))), path);
                        checked++;
                    }
                }
            }
            assertEquals(IMAGES, checked);
        }
    }

    @Test
    void savedAndLoadedPipelineGivesTheSameOutput() throws Exception {
        // A folder of its own: a limit() would add a single-partition stage of its own to each run.
        Dataset<Row> images = LocalSpark.session().read().format("binaryFile").load(dir.resolve("few").toString());
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[]{transformer(5).setTopK(3)}).fit(images);
        Path saved = dir.resolve("pipeline");
        fitted.write().overwrite().save(saved.toString());
        PipelineModel loaded = PipelineModel.load(saved.toString());

        KilnTransformer stage = (KilnTransformer) loaded.stages()[0];
        assertEquals(MODEL, stage.getModel());
        assertEquals(BATCH, stage.getBatchSize());
        Map<String, Row> before = byPath(fitted.transform(images));
        int compiledBefore = ExecutorModels.compilations();
        Map<String, Row> after = byPath(loaded.transform(images));
        assertEquals(compiledBefore, ExecutorModels.compilations(), "the loaded stage reuses the cached model");
        assertEquals(before.keySet(), after.keySet());
        for (String path : before.keySet()) {
            Row a = before.get(path);
            Row b = after.get(path);
            assertEquals(a.getList(a.fieldIndex("logits")), b.getList(b.fieldIndex("logits")), path);
            assertEquals(3, b.getList(b.fieldIndex("top")).size());
            assertEquals(a.getList(a.fieldIndex("top")), b.getList(b.fieldIndex("top")), path);
        }
    }

    private static Map<String, Row> byPath(Dataset<Row> out) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Row r : out.select("path", "logits", "top").collectAsList()) {
            rows.put(r.getAs("path"), r);
        }
        return rows;
    }

    static float[] floats(List<Object> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (Float) values.get(i);
        }
        return f;
    }

    static List<Integer> indices(List<Row> top) {
        return top.stream().map(r -> r.<Integer>getAs("index")).toList();
    }

    /** The five largest, best first, ties by lower index: {@code kiln run}'s order. */
    static List<Integer> topFive(float[] logits) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            order.add(i);
        }
        order.sort((x, y) -> logits[x] != logits[y] ? Float.compare(logits[y], logits[x]) : Integer.compare(x, y));
        return order.subList(0, 5);
    }
}
