package dev.kiln.models.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.kiln.EngineOptions;
import dev.kiln.models.io.RegularFiles;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An ONNX file parsed into its protobuf model, with the folder its external data lives in.
 *
 * <p>Memory: protobuf-java (4.36) decodes only from a heap array or a stream; a direct or
 * memory-mapped buffer is first copied whole into a heap array. So the file is read once into
 * the heap, and parsed with aliasing on, which makes every {@code raw_data} a view of that one
 * array instead of a second copy. The weights then go once into off-heap tensors, and the array
 * is garbage as soon as loading returns. Weights kept in external data files never touch the
 * heap (see {@link ExternalData}).
 */
record ModelFile(Path path, Path folder, ModelProto model) {

    /** Protobuf cannot encode a message of 2 GiB or more; larger models keep weights in external data. */
    private static final long MAX_PROTOBUF_BYTES = Integer.MAX_VALUE;

    static ModelFile read(Path file) {
        Path path = file.toAbsolutePath().normalize();
        byte[] bytes = readBytes(path);
        if (bytes.length == 0) {
            throw new OnnxFormatException(path + " is empty, not an ONNX model");
        }
        ModelProto model;
        try {
            // Only a stream over a buffer protobuf may treat as immutable aliases it: a plain
            // CodedInputStream.newInstance(bytes) copies every raw_data even with aliasing on.
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            in.setSizeLimit(bytes.length);
            model = ModelProto.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException(path + " is not a valid ONNX file (not a protobuf, or truncated: "
                    + bytes.length + " bytes): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new OnnxFormatException("cannot parse " + path + ": " + e, e);
        }
        // Arbitrary bytes sometimes decode as a protobuf of unknown fields: an ONNX model has a graph.
        if (!model.hasGraph() || model.getIrVersion() <= 0) {
            throw new OnnxFormatException(path + " is not an ONNX model: "
                    + (model.hasGraph() ? "it declares no IR version" : "it holds no graph"));
        }
        Path folder = path.getParent() == null ? Path.of("").toAbsolutePath() : path.getParent();
        return new ModelFile(path, folder, model);
    }

    /**
     * The file's bytes, read only when it is a regular file of less than 2 GiB and no larger than
     * the memory limit ({@link EngineOptions#configuredMaxMemory()}): a directory, a
     * FIFO or a device (say {@code /dev/zero}) is refused before it is opened, since reading one
     * could block forever or never end.
     */
    private static byte[] readBytes(Path path) {
        try {
            long size = RegularFiles.requireRegular(path, "ONNX file").size();
            if (size >= MAX_PROTOBUF_BYTES) {
                throw new OnnxFormatException(path + " has " + size + " bytes; a protobuf holds less than 2 GiB, "
                        + "so ONNX files this large must keep their weights in external data files");
            }
            long limit = EngineOptions.configuredMaxMemory();
            if (size > limit) {
                // The file is read whole onto the heap, then its weights are copied once more.
                throw new OnnxFormatException(path + " has " + EngineOptions.describeBytes(size)
                        + ", more than the memory limit of " + EngineOptions.describeBytes(limit)
                        + " (set with --max-memory or " + EngineOptions.MAX_MEMORY_ENV + ")");
            }
            byte[] bytes = new byte[(int) size];
            try (InputStream in = Files.newInputStream(path)) {
                // Exactly the size seen above, in one array; a file that changed meanwhile is refused.
                int read = in.readNBytes(bytes, 0, bytes.length);
                if (read != size || in.read() != -1) {
                    throw new OnnxFormatException(path + " changed size while it was read (" + size + " bytes, then "
                            + (read != size ? read : "more") + ")");
                }
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new OnnxFormatException("ONNX file " + path + " does not exist", e);
        } catch (RegularFiles.NotARegularFileException e) {
            throw new OnnxFormatException(e.getMessage(), e);
        } catch (IOException e) {
            throw new OnnxFormatException("cannot read ONNX file " + path + ": " + e, e);
        }
    }

    /** The file's name, for messages. */
    String label() {
        return path.getFileName().toString();
    }
}
