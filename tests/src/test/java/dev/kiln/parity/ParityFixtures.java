package dev.kiln.parity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The folder of PyTorch parity fixtures that {@code scripts/prepare-test-fixtures.sh} generates
 * with {@code parity/export_models.py} and {@code parity/export_reduced.py}:
 * {@code <root>/parity-<key>/}, where root is {@code $KILN_FIXTURES}, else
 * {@code $HOME/.cache/kiln/fixtures}, and the key is the first 16 hex digits of the SHA-256 of
 * the key text: a line {@code <sha256>  parity/<file>.py} for every Python file in
 * {@value #SCRIPTS_FOLDER} (the scripts that write fixtures and the helpers they import), sorted
 * by name, then a line {@code <package> <version>} for torch, torchvision, onnx and numpy. Keying
 * by both means a changed script or another PyTorch is never tested against stale fixtures.
 *
 * <p>The versions are known to Python only, so the script writes the key text into the folder as
 * {@value #KEY_FILE}; this class computes the script lines itself, takes the version lines from
 * that file, and uses the folder only if the file's hash is the folder's name and its script
 * lines are this checkout's: the script and this class must agree on the key, and a folder made
 * by other scripts is never read. ({@code ParityFixturesTest} also runs the script's
 * {@code --print-key} and compares.)
 *
 * <p>Inside, per model, the layout the scripts document: {@code <model>/default.onnx},
 * {@code <model>/keep_bn.onnx}, {@code <model>/input_b<N>.npy}, {@code <model>/output_b<N>.npy};
 * the reduced-resolution variants the same way under {@value #REDUCED_FOLDER}/ (see
 * {@link #reduced}). The export script writes batches {@link #EXPORTED_BATCHES}; other batch
 * sizes are added to the same folder later by {@value #BATCH_SCRIPT}, each marked complete by its
 * own {@code .complete-b<N>}, so that adding one does not regenerate the whole folder.
 */
record ParityFixtures(Path folder) {
    static final String SCRIPT = "parity/export_models.py";
    static final String BATCH_SCRIPT = "parity/export_batches.py";
    static final String PREPARE = "scripts/prepare-test-fixtures.sh";
    /** Every Python file here is part of the key. */
    static final String SCRIPTS_FOLDER = "parity";
    static final String KEY_FILE = "fixture-key.txt";
    static final String COMPLETE_MARKER = ".complete";
    /** Where {@code parity/export_reduced.py}'s variants lie inside the folder. */
    static final String REDUCED_FOLDER = "reduced";
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

    /**
     * The complete folder under {@code fixturesRoot} whose key file holds this checkout's script
     * lines and hashes to the folder's name; the most recently completed one if the script has
     * not yet removed an older one (made with other package versions).
     */
    static ParityFixtures locate(Path repositoryRoot, Path fixturesRoot) {
        String scripts = scriptLines(repositoryRoot);
        List<String> rejected = new ArrayList<>();
        Path chosen = null;
        FileTime chosenTime = null;
        for (Path folder : candidateFolders(fixturesRoot)) {
            String name = folder.getFileName().toString();
            Path keyFile = folder.resolve(KEY_FILE);
            if (!Files.isRegularFile(keyFile)) {
                rejected.add(name + ": no " + KEY_FILE + " (made by an earlier version of " + PREPARE + ")");
                continue;
            }
            String keyText = read(keyFile);
            if (!name.equals(folderName(keyText))) {
                rejected.add(name + ": its " + KEY_FILE + " hashes to " + folderName(keyText)
                        + " (the script and this class disagree on the key, or the file was edited)");
            } else if (!scriptLinesOf(keyText).equals(scripts)) {
                rejected.add(name + ": made by other versions of " + SCRIPTS_FOLDER + "/*.py");
            } else if (!Files.isRegularFile(folder.resolve(COMPLETE_MARKER))) {
                rejected.add(name + ": lacks its " + COMPLETE_MARKER + " marker (being generated, or interrupted)");
            } else {
                FileTime completed = lastModified(folder.resolve(COMPLETE_MARKER));
                if (chosen == null || completed.compareTo(chosenTime) > 0) {
                    chosen = folder;
                    chosenTime = completed;
                }
            }
        }
        if (chosen == null) {
            throw new IllegalStateException("no complete PyTorch parity fixtures for this checkout's " + SCRIPTS_FOLDER
                    + "/*.py in " + fixturesRoot + (rejected.isEmpty() ? "" : " (" + String.join("; ", rejected) + ")")
                    + ": run " + PREPARE + " (or ./run-tests, which runs it) from " + repositoryRoot
                    + " to generate them");
        }
        return new ParityFixtures(chosen);
    }

    private static List<Path> candidateFolders(Path fixturesRoot) {
        if (!Files.isDirectory(fixturesRoot)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(fixturesRoot)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("parity-") && Files.isDirectory(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + fixturesRoot, e);
        }
    }

    /**
     * The key text's script lines for this checkout: {@code <sha256>  parity/<file>.py} and a
     * newline for every Python file in {@value #SCRIPTS_FOLDER}, sorted by name, as
     * {@code sha256sum} prints them.
     */
    static String scriptLines(Path repositoryRoot) {
        Path scripts = repositoryRoot.resolve(SCRIPTS_FOLDER);
        try (Stream<Path> files = Files.list(scripts)) {
            StringBuilder lines = new StringBuilder();
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".py") && Files.isRegularFile(f))
                    .sorted(Comparator.comparing(f -> f.getFileName().toString()))
                    .toList()) {
                lines.append(sha256(Files.readAllBytes(file))).append("  ").append(SCRIPTS_FOLDER).append('/')
                        .append(file.getFileName()).append('\n');
            }
            return lines.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the scripts in " + scripts, e);
        }
    }

    /** The lines of a key text that name a script (the others name package versions). */
    static String scriptLinesOf(String keyText) {
        StringBuilder lines = new StringBuilder();
        keyText.lines().filter(line -> line.matches("[0-9a-f]{64}  .*")).forEach(l -> lines.append(l).append('\n'));
        return lines.toString();
    }

    /** {@code parity-} and the first 16 hex digits of the key text's SHA-256. */
    static String folderName(String keyText) {
        return "parity-" + sha256(keyText.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /** The package versions the fixtures were made with, as their key file lists them. */
    List<String> versions() {
        return read(folder.resolve(KEY_FILE)).lines().filter(line -> !line.matches("[0-9a-f]{64}  .*")).toList();
    }

    /**
     * The variants of {@code parity/export_reduced.py} (ResNet-18 and -34, VGG-11, -13 and -19 with
     * and without batch-norm, EfficientNet-B1 to B3) at their reduced resolution, in the same layout
     * at batches 1 and 2; their VGGs have no keep_bn export.
     */
    ParityFixtures reduced() {
        return new ParityFixtures(folder.resolve(REDUCED_FOLDER));
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

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static FileTime lastModified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the time of " + file, e);
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
