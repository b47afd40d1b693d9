package dev.kiln.models.onnx;

import dev.kiln.models.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;

/**
 * Tensor data kept outside the .onnx file ({@code data_location = EXTERNAL}): a file named by a
 * path relative to the model's folder, an offset and a length. A path that leads outside that
 * folder (absolute, {@code ..}, or a symbolic link pointing out) is refused: a model file must
 * not be able to make Kiln read arbitrary files. The data is memory-mapped and copied straight
 * into off-heap tensors, never through the Java heap.
 */
final class ExternalData {
    private ExternalData() {
    }

    /** Where a tensor's bytes are: a file inside the model's folder, checked to hold them. */
    record Location(Path file, long offset, long length) {
    }

    /**
     * Resolves and checks a tensor's external data entries against the bytes its dims need,
     * before anything is mapped or allocated.
     */
    static Location locate(TensorProto tensor, Path folder, String what, long neededBytes) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto entry : tensor.getExternalDataList()) {
            switch (entry.getKey()) {
                case "location" -> location = entry.getValue();
                case "offset" -> offset = parseNonNegative(entry.getValue(), "offset", what);
                case "length" -> length = parseNonNegative(entry.getValue(), "length", what);
                default -> {
                    // "checksum" and keys of later ONNX versions do not change where the bytes are.
                }
            }
        }
        if (location == null || location.isEmpty()) {
            throw new OnnxFormatException(what + " has external data but no 'location' entry");
        }
        Path file = insideFolder(folder, location, what);
        if (length >= 0 && length != neededBytes) {
            throw new OnnxFormatException(what + " declares " + length + " bytes of external data in '" + location
                    + "', but its type and dims need " + neededBytes);
        }
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new OnnxFormatException(what + ": cannot read external data file " + file + ": " + e, e);
        }
        if (offset > size || neededBytes > size - offset) {
            throw new OnnxFormatException(what + " needs " + neededBytes + " bytes at offset " + offset
                    + " of external data file " + file + ", which has only " + size + " bytes");
        }
        return new Location(file, offset, neededBytes);
    }

    private static Path insideFolder(Path folder, String location, String what) {
        Path relative;
        try {
            relative = Path.of(location);
        } catch (InvalidPathException e) {
            throw new OnnxFormatException(what + ": external data location '" + location + "' is not a valid path", e);
        }
        Path resolved = folder.resolve(relative).normalize();
        if (relative.isAbsolute() || !resolved.startsWith(folder)) {
            throw new OnnxFormatException(what + ": external data location '" + location
                    + "' resolves outside the model's folder " + folder + "; refused");
        }
        if (!Files.isRegularFile(resolved)) {
            throw new OnnxFormatException(what + ": external data file " + resolved + " does not exist");
        }
        try {
            Path real = resolved.toRealPath();
            if (!real.startsWith(folder.toRealPath())) {
                throw new OnnxFormatException(what + ": external data location '" + location + "' links to " + real
                        + ", outside the model's folder " + folder + "; refused");
            }
            return real;
        } catch (IOException e) {
            throw new OnnxFormatException(what + ": cannot resolve external data file " + resolved + ": " + e, e);
        }
    }

    private static long parseNonNegative(String value, String key, String what) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new OnnxFormatException(what + ": external data '" + key + "' is '" + value
                + "', not a non-negative integer");
    }

    /** Maps the bytes read-only for the duration of {@code use}, then unmaps them. */
    static <R> R withMapping(Location location, String what, Function<MemorySegment, R> use) {
        if (location.length() == 0) {
            return use.apply(MemorySegment.NULL);
        }
        try (Arena arena = Arena.ofConfined();
             FileChannel channel = FileChannel.open(location.file(), StandardOpenOption.READ)) {
            MemorySegment bytes = channel.map(FileChannel.MapMode.READ_ONLY, location.offset(), location.length(),
                    arena);
            return use.apply(bytes);
        } catch (IOException e) {
            throw new OnnxFormatException(what + ": cannot map external data file " + location.file() + ": " + e, e);
        }
    }
}
