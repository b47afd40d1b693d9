package dev.kiln.fuzz;

import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The seed corpus of the model-file fuzzer: every small model of the ONNX backend test data
 * (Debian's {@code libonnx-testdata}), the crafted hostile files of the CLI tests, and the
 * PyTorch parity exports when they have been generated, with their image size cut to 64x64 so
 * that a run takes milliseconds.
 */
final class FuzzSeeds {
    static final String TESTDATA_PROPERTY = "kiln.onnx.testdata";
    static final Path TESTDATA = Path.of("/usr/share/libonnx-testdata/data");
    /** Larger test models add little but time. */
    private static final long MAX_TESTDATA_BYTES = 256 << 10;
    private static final List<String> PARITY_MODELS = List.of("mobilenet_v1", "mobilenet_v2", "efficientnet_b0");
    private static final int PARITY_IMAGE_SIZE = 64;

    /** Seeds by origin: the parity exports are large, so the fuzzer draws them less often. */
    record Corpus(List<byte[]> small, List<byte[]> parity) {
        int size() {
            return small.size() + parity.size();
        }
    }

    private FuzzSeeds() {
    }

    static Corpus load(Path repositoryRoot) {
        List<byte[]> small = new ArrayList<>();
        String configured = System.getProperty(TESTDATA_PROPERTY);
        Path testData = configured == null || configured.isBlank() ? TESTDATA : Path.of(configured);
        if (!Files.isDirectory(testData)) {
            throw new AssertionError("the ONNX backend test data is missing at " + testData
                    + ": install it with 'apt-get install libonnx-testdata' (run-tests does), or point -D"
                    + TESTDATA_PROPERTY + " at it");
        }
        small.addAll(files(testData, 3, "model.onnx", MAX_TESTDATA_BYTES));
        small.addAll(files(repositoryRoot.resolve("cli/src/test/resources/hostile"), 1, ".onnx", Long.MAX_VALUE));
        return new Corpus(small, parityExports());
    }

    private static List<byte[]> files(Path root, int depth, String suffix, long maxBytes) {
        try (Stream<Path> found = Files.find(root, depth, (p, a) -> a.isRegularFile()
                && p.getFileName().toString().endsWith(suffix) && a.size() <= maxBytes)) {
            List<byte[]> bytes = new ArrayList<>();
            for (Path p : found.sorted().toList()) {
                bytes.add(Files.readAllBytes(p));
            }
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The parity exports found in the fixture cache (any generation of them), at a small image size. */
    private static List<byte[]> parityExports() {
        String configured = System.getenv("KILN_FIXTURES");
        Path root = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "kiln", "fixtures");
        List<byte[]> exports = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return exports;
        }
        try (Stream<Path> folders = Files.list(root)) {
            Path folder = folders.filter(f -> Files.exists(f.resolve(".complete"))).sorted().findFirst().orElse(null);
            if (folder == null) {
                return exports;
            }
            for (String model : PARITY_MODELS) {
                Path file = folder.resolve(model).resolve("default.onnx");
                if (Files.isRegularFile(file)) {
                    exports.add(withImageSize(Files.readAllBytes(file)));
                }
            }
            return exports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The export with its image input declared [N, 3, 64, 64] (global pooling makes any size work). */
    private static byte[] withImageSize(byte[] model) throws IOException {
        ModelProto.Builder m = ModelProto.parseFrom(model).toBuilder();
        for (ValueInfoProto.Builder input : m.getGraphBuilder().getInputBuilderList()) {
            TensorShapeProto.Builder shape = input.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
            if (shape.getDimCount() == 4) {
                shape.getDimBuilder(2).setDimValue(PARITY_IMAGE_SIZE);
                shape.getDimBuilder(3).setDimValue(PARITY_IMAGE_SIZE);
            }
        }
        return m.build().toByteArray();
    }
}
