package dev.kiln.parity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The folder of PyTorch parity fixtures that {@code scripts/prepare-test-fixtures.sh} generates
 * with {@code parity/export_models.py}: {@code <root>/parity-<first 16 hex of the script's
 * SHA-256>/}, where root is {@code $KILN_FIXTURES}, else {@code $HOME/.cache/kiln/fixtures}.
 * Keying by the script's hash means a changed script is never tested against stale fixtures.
 *
 * <p>Inside, per model, the layout the script documents: {@code <model>/default.onnx},
 * {@code <model>/keep_bn.onnx}, {@code <model>/input_b<N>.npy}, {@code <model>/output_b<N>.npy}.
 * The script writes batches {@link #EXPORTED_BATCHES}; other batch sizes are added to the same
 * folder later by {@value #BATCH_SCRIPT}, each marked complete by its own
 * {@code .complete-b<N>}, so that adding one does not regenerate the whole folder.
 */
record ParityFixtures(Path folder) {
    static final String SCRIPT = "parity/export_models.py";
    static final String BATCH_SCRIPT = "parity/export_batches.py";
    static final String PREPARE = "scripts/prepare-test-fixtures.sh";
    static final String COMPLETE_MARKER = ".complete";
    /** The batch sizes {@value #SCRIPT} itself writes (its {@code BATCHES}). */
    static final List<Integer> EXPORTED_BATCHES = List.of(1, 3);

    /** The two exports of each model. */
    enum Export {
        /** The ordinary eval() export: batch-norm folded into the convolutions by PyTorch. */
        DEFAULT("default"),
        /** Keeps the BatchNormalization nodes; initializers named by state_dict keys. */
        KEEP_BN("keep_bn");

        final String fileStem;

        Export(String fileStem) {
            this.fileStem = fileStem;
        }
    }

    /** The fixtures for this checkout, or an {@link IllegalStateException} saying how to make them. */
    static ParityFixtures locate() {
        return locate(repositoryRoot(Path.of("").toAbsolutePath()), fixturesRoot());
    }

    static ParityFixtures locate(Path repositoryRoot, Path fixturesRoot) {
        Path folder = fixturesRoot.resolve("parity-" + scriptHash(repositoryRoot.resolve(SCRIPT)));
        if (!Files.isRegularFile(folder.resolve(COMPLETE_MARKER))) {
            throw new IllegalStateException("no complete PyTorch parity fixtures in " + folder
                    + (Files.isDirectory(folder) ? " (the folder lacks its " + COMPLETE_MARKER + " marker)" : "")
                    + ": run " + PREPARE + " (or ./run-tests, which runs it) from " + repositoryRoot
                    + " to generate them with " + SCRIPT);
        }
        return new ParityFixtures(folder);
    }

    /** The nearest folder at or above {@code start} that holds {@value #SCRIPT}. */
    static Path repositoryRoot(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(SCRIPT))) {
                return dir;
            }
        }
        throw new IllegalStateException("no " + SCRIPT + " in " + start + " or any folder above it");
    }

    /** {@code $KILN_FIXTURES}, else {@code $HOME/.cache/kiln/fixtures}, as the script computes it. */
    static Path fixturesRoot() {
        String configured = System.getenv("KILN_FIXTURES");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String home = System.getenv("HOME");
        return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".cache", "kiln",
                "fixtures");
    }

    /** The first 16 hex digits of the file's SHA-256, as {@code sha256sum | cut -c1-16} prints them. */
    static String scriptHash(Path script) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(script));
            return HexFormat.of().formatHex(digest).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + script, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** The marker {@value #BATCH_SCRIPT} leaves once every model has its batch-{@code batch} files. */
    static String batchMarker(int batch) {
        return COMPLETE_MARKER + "-b" + batch;
    }

    /**
     * Fails, saying how to add them, unless the folder holds fixtures at every one of these batch
     * sizes: those {@value #SCRIPT} writes, and others once {@value #BATCH_SCRIPT} has marked them
     * complete.
     */
    ParityFixtures requireBatches(List<Integer> batches) {
        for (int batch : batches) {
            if (!EXPORTED_BATCHES.contains(batch) && !Files.isRegularFile(folder.resolve(batchMarker(batch)))) {
                throw new IllegalStateException("the PyTorch parity fixtures in " + folder + " have no batch " + batch
                        + " (no " + batchMarker(batch) + " marker): run " + PREPARE + ", which adds it with "
                        + BATCH_SCRIPT + " (and must list " + batch + " among its extra batches)");
            }
        }
        return this;
    }

    Path onnx(String model, Export export) {
        return existing(folder.resolve(model).resolve(export.fileStem + ".onnx"));
    }

    Path input(String model, int batch) {
        return existing(folder.resolve(model).resolve("input_b" + batch + ".npy"));
    }

    /** PyTorch's output for {@link #input}, computed in float64 and stored as float32. */
    Path expectedOutput(String model, int batch) {
        return existing(folder.resolve(model).resolve("output_b" + batch + ".npy"));
    }

    private Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("the parity fixtures in " + folder + " lack " + folder.relativize(file)
                    + "; run " + PREPARE + " again (if the folder is marked complete, it was damaged: move it"
                    + " aside first)");
        }
        return file;
    }
}
