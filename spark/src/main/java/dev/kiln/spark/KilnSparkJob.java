package dev.kiln.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln spark}: classifies a folder of images through Spark and writes one Parquet row
 * per file (path, logits, top classes, error). The same class is the main class for
 * {@code spark-submit} on a cluster; {@code ./kiln spark} runs it in local mode from this
 * module's own class path (Spark included), so the core command's jar does not carry Spark.
 */
@Command(name = "kiln spark", mixinStandardHelpOptions = true,
        description = "Classify a folder of images with a Kiln model through Apache Spark, writing Parquet.")
public final class KilnSparkJob implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "A zoo model (see 'kiln models') or an .onnx file every executor can read (or added with --files).")
    String model;

    @Option(names = "--images", required = true, paramLabel = "DIR",
            description = "A folder (or any path Spark reads: hdfs://, s3a://) of images; subfolders are read too.")
    String images;

    @Option(names = "--output", required = true, paramLabel = "FILE.parquet", description = "Where to write the predictions.")
    String output;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "ID", description = "Kiln backend or auto (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--select", defaultValue = "cached", paramLabel = "POLICY",
            description = "How auto chooses: rank, measured, cached (default ${DEFAULT-VALUE}: the tuning cache, else the rank).")
    String select;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Images per model run (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Seed of a zoo model's weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Classes per image (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--logits", description = "Write the logits too (1000 floats per image for ImageNet).")
    boolean logits;

    @Option(names = "--overwrite", description = "Replace the output if it exists.")
    boolean overwrite;

    public static void main(String[] args) {
        System.exit(new CommandLine(new KilnSparkJob()).execute(args));
    }

    @Override
    public Integer call() {
        SparkSession.Builder builder = SparkSession.builder().appName("kiln spark " + model);
        if (master != null) {
            builder.master(master);
        } else if (!SparkSession.getActiveSession().isDefined() && System.getProperty("spark.master") == null) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            long start = System.nanoTime();
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(images);
            KilnTransformer kiln = new KilnTransformer().setModel(model).setSeed(seed).setBackend(backend)
                    .setSelection(select).setBatchSize(batch).setTopK(top);
            Dataset<Row> predictions = kiln.transform(files).drop("content", "modificationTime", "length");
            if (!logits) {
                predictions = predictions.drop("logits");
            }
            predictions.write().mode(overwrite ? "overwrite" : "errorifexists").parquet(output);
            double seconds = (System.nanoTime() - start) / 1e9;
            Dataset<Row> written = spark.read().parquet(output);
            long rows = written.count();
            long errors = written.filter(functions.col("error").isNotNull()).count();
            System.out.printf(Locale.ROOT, "%d images (%d errors) in %.1f s, %.1f images/s, to %s%n", rows, errors,
                    seconds, rows / seconds, output);
            return 0;
        } finally {
            spark.stop();
        }
    }
}
