package dev.kiln.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where the benchmarks find the PyTorch exports: the newest complete {@code parity-*} folder
 * under {@code $KILN_FIXTURES}, else {@code ~/.cache/kiln/fixtures} (the benchmark jar does not
 * know the repository, so it cannot check the scripts' key the tests check; the preparing
 * script keeps only the current folder).
 */
record ParityExports(Path folder) {

    static ParityExports locate() {
        String configured = System.getenv("KILN_FIXTURES");
        Path root = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "kiln", "fixtures");
        try (Stream<Path> folders = Files.isDirectory(root) ? Files.list(root) : Stream.empty()) {
            return folders.filter(f -> f.getFileName().toString().startsWith("parity-"))
                    .filter(f -> Files.isRegularFile(f.resolve(".complete")))
                    .max(Comparator.comparing(ParityExports::modified))
                    .map(ParityExports::new)
                    .orElseThrow(() -> new IllegalStateException("no PyTorch exports under " + root
                            + ": run scripts/prepare-test-fixtures.sh (or ./run-tests) first"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    Path defaultExport(String model) {
        Path file = folder.resolve(model).resolve("default.onnx");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no export of '" + model + "' in " + folder);
        }
        return file;
    }

    private static java.nio.file.attribute.FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
