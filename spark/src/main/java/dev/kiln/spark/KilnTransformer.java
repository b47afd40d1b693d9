package dev.kiln.spark;

import dev.kiln.Engine;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serial;
import java.util.Arrays;
import java.util.List;

/**
 * A Spark ML stage that runs a Kiln model over a column of images or tensors and adds its
 * logits, its top classes and an error column. It goes into a {@code Pipeline} and is saved and
 * loaded with it (only params are saved: the model is found again from the {@code model} param).
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("photos/");
 * KilnTransformer kiln = new KilnTransformer().setModel("resnet50").setBatchSize(16);
 * kiln.transform(images).select("path", "top", "error").write().parquet("preds.parquet");
 * }</pre>
 *
 * Each executor JVM builds and compiles the model once, on its first task, and every task there
 * shares it ({@link ExecutorModels}); threads follow {@link ThreadRule}. Before any task starts,
 * {@link #transform} checks on the driver that the model and backend exist, so a typo fails the
 * job at once with Kiln's message; a row that cannot be read fails nothing: its outputs are null
 * and its error column says why.
 */
public final class KilnTransformer extends Transformer implements DefaultParamsWritable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final LongParam seed;
    private final Param<String> backend;
    private final Param<String> selection;
    private final IntParam batchSize;
    private final Param<String> inputCol;
    private final IntArrayParam inputShape;
    private final Param<String> logitsCol;
    private final Param<String> topCol;
    private final IntParam topK;
    private final Param<String> errorCol;
    private final IntParam threadsPerTask;

    public KilnTransformer() {
        this(Identifiable$.MODULE$.randomUID("kiln"));
    }

    /** The constructor Spark ML persistence calls when it loads a saved stage. */
    public KilnTransformer(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "a Kiln zoo model name (e.g. resnet50) or an .onnx file: a path every"
                + " executor can read, or the name of a file added with SparkContext.addFile");
        seed = new LongParam(this, "seed", "seed of a zoo model's random weights");
        backend = new Param<>(this, "backend", "a Kiln backend id (cpu-simd, onednn, opencl, reference) or auto");
        selection = new Param<>(this, "selection", "how auto chooses a backend: rank, measured, cached or remeasure",
                ParamValidators.inArray(new String[]{"rank", "measured", "cached", "remeasure"}));
        batchSize = new IntParam(this, "batchSize", "rows per model run within a partition", ParamValidators.gtEq(1));
        inputCol = new Param<>(this, "inputCol", "the input column: binary image bytes (as the binaryFile source"
                + " gives them) or array<float> tensors of inputShape");
        inputShape = new IntArrayParam(this, "inputShape", "one item's shape for array<float> input, without the"
                + " batch axis (e.g. [3, 224, 224]); empty: the model's");
        logitsCol = new Param<>(this, "logitsCol", "the output column of logits, array<float>");
        topCol = new Param<>(this, "topCol", "the output column of the top classes: array<struct<index, label, score>>");
        topK = new IntParam(this, "topK", "how many classes topCol holds", ParamValidators.gtEq(1));
        errorCol = new Param<>(this, "errorCol", "the output column that says why a row has no outputs (null if it has)");
        threadsPerTask = new IntParam(this, "threadsPerTask", "threads one task's run may use; 0: spark.task.cpus",
                ParamValidators.gtEq(0));
        setDefault(seed, 42L);
        setDefault(backend, Engine.AUTO);
        setDefault(selection, "cached");
        setDefault(batchSize, 16);
        setDefault(inputCol, "content");
        setDefault(inputShape, new int[0]);
        setDefault(logitsCol, "logits");
        setDefault(topCol, "top");
        setDefault(topK, 5);
        setDefault(errorCol, "error");
        setDefault(threadsPerTask, 0);
    }

    /** The loader Spark ML persistence (and {@code Pipeline.load}) finds by reflection. */
    public static MLReader<KilnTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static KilnTransformer load(String path) {
        return read().load(path);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Params: Spark finds them through these public accessors.
    public Param<String> model() { return model; }
    public LongParam seed() { return seed; }
    public Param<String> backend() { return backend; }
    public Param<String> selection() { return selection; }
    public IntParam batchSize() { return batchSize; }
    public Param<String> inputCol() { return inputCol; }
    public IntArrayParam inputShape() { return inputShape; }
    public Param<String> logitsCol() { return logitsCol; }
    public Param<String> topCol() { return topCol; }
    public IntParam topK() { return topK; }
    public Param<String> errorCol() { return errorCol; }
    public IntParam threadsPerTask() { return threadsPerTask; }

    public KilnTransformer setModel(String value) { set(model, value); return this; }
    public KilnTransformer setSeed(long value) { set(seed, value); return this; }
    public KilnTransformer setBackend(String value) { set(backend, value); return this; }
    public KilnTransformer setSelection(String value) { set(selection, value); return this; }
    public KilnTransformer setBatchSize(int value) { set(batchSize, value); return this; }
    public KilnTransformer setInputCol(String value) { set(inputCol, value); return this; }
    public KilnTransformer setInputShape(int... value) { set(inputShape, value); return this; }
    public KilnTransformer setLogitsCol(String value) { set(logitsCol, value); return this; }
    public KilnTransformer setTopCol(String value) { set(topCol, value); return this; }
    public KilnTransformer setTopK(int value) { set(topK, value); return this; }
    public KilnTransformer setErrorCol(String value) { set(errorCol, value); return this; }
    public KilnTransformer setThreadsPerTask(int value) { set(threadsPerTask, value); return this; }

    public String getModel() { return $(model); }
    public int getBatchSize() { return (Integer) $(batchSize); }

    @Override
    public StructType transformSchema(StructType schema) {
        StructField in = field(schema, $(inputCol));
        DataType type = in.dataType();
        boolean floats = type instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType);
        if (!type.equals(DataTypes.BinaryType) && !floats) {
            throw new IllegalArgumentException("input column '" + in.name() + "' is " + type.simpleString()
                    + ": Kiln reads binary image bytes (the binaryFile source's content) or array<float> tensors");
        }
        StructType out = schema;
        for (String name : List.of($(logitsCol), $(topCol), $(errorCol))) {
            if (Arrays.asList(schema.fieldNames()).contains(name)) {
                throw new IllegalArgumentException("output column '" + name + "' already exists in the input");
            }
        }
        out = out.add($(logitsCol), DataTypes.createArrayType(DataTypes.FloatType, false), true);
        out = out.add($(topCol), DataTypes.createArrayType(TopClassRows.SCHEMA, false), true);
        return out.add($(errorCol), DataTypes.StringType, true);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        StructType outSchema = transformSchema(schema);
        if (!isDefined(model)) {
            throw new IllegalArgumentException("KilnTransformer: set the model param (a zoo name or an .onnx file)");
        }
        InferenceSettings settings = settings();
        // On the driver, before any task: a wrong name fails the job here, once, with Kiln's message.
        settings.source().check();
        BackendCheck.require(settings.backend());
        int input = schema.fieldIndex($(inputCol));
        boolean imageBytes = schema.fields()[input].dataType().equals(DataTypes.BinaryType);
        int path = Arrays.asList(schema.fieldNames()).indexOf("path");
        if (path >= 0 && !schema.fields()[path].dataType().equals(DataTypes.StringType)) {
            path = -1;
        }
        return dataset.toDF().mapPartitions(new PartitionInference(settings, input, path, imageBytes),
                Encoders.row(outSchema));
    }

    InferenceSettings settings() {
        return new InferenceSettings(new ModelSource($(model), (Long) $(seed)), $(backend), $(selection),
                (Integer) $(batchSize), (Integer) $(topK), (Integer) $(threadsPerTask), $(inputShape));
    }

    private static StructField field(StructType schema, String name) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("input column '" + name + "' is not in the data frame; its columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(name);
    }

    @Override
    public KilnTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
