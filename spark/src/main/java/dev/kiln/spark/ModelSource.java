package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.onnx.OnnxImporter;
import org.apache.spark.SparkFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a model comes from, as the transformer's {@code model} and {@code seed} params say: a
 * zoo name (built with seeded weights), or an ONNX file that every executor can read, either at
 * a shared path (a network file system, the same image on every node) or shipped with
 * {@code SparkContext.addFile}, in which case the param holds the file's name or its original
 * path and the executor finds its copy through {@link SparkFiles#get}.
 *
 * <p>{@link #identity()} is what the executor's model cache is keyed by: the zoo name and seed,
 * or the SHA-256 of the file's bytes, so the same weights under two paths compile once and a
 * file replaced under the same path compiles again.
 */
record ModelSource(String model, long seed) implements Serializable {
    // A file's hash, by path, size and modification time: hashing a 100 MB model per partition
    // would cost more than a small partition's inference.
    private static final Map<String, String> FILE_HASHES = new ConcurrentHashMap<>();

    ModelSource {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("the model param is empty: give a zoo name (e.g. resnet50) or an .onnx file");
        }
    }

    boolean isFile() {
        return model.endsWith(".onnx");
    }

    /**
     * Checks that the model can be found here, with Kiln's message when it cannot: an unknown
     * zoo name, or an ONNX file neither at its path nor among the files added to the job.
     */
    void check() {
        if (isFile()) {
            file();
        } else {
            Models.byName(model);
        }
    }

    /** The ONNX file on this machine. */
    Path file() {
        Path given = Path.of(model);
        if (Files.isRegularFile(given)) {
            return given;
        }
        Path shipped = shippedCopy(given);
        if (shipped != null && Files.isRegularFile(shipped)) {
            return shipped;
        }
        throw new IllegalArgumentException("model file " + model + " is not readable here, neither at that path nor"
                + " among the files added with SparkContext.addFile" + (shipped == null ? " (no SparkContext)" : " (" + shipped + ")"));
    }

    private static Path shippedCopy(Path given) {
        try {
            return Path.of(SparkFiles.get(String.valueOf(given.getFileName())));
        } catch (RuntimeException e) {
            return null; // no SparkEnv in this JVM: a plain Java caller
        }
    }

    /** The zoo name and seed, or the file's content hash. */
    String identity() {
        if (!isFile()) {
            return "zoo:" + model + ":seed=" + seed;
        }
        Path file = file();
        try {
            String stamp = file.toAbsolutePath() + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis();
            return "onnx:sha256=" + FILE_HASHES.computeIfAbsent(stamp, s -> sha256(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model file " + file, e);
        }
    }

    /** A new graph, which the caller closes. */
    Graph build() {
        return isFile() ? OnnxImporter.load(file()) : Models.byName(model).build(seed);
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model file " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
