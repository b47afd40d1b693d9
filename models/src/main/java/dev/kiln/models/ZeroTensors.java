package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Zero tensors that cost nothing until they are touched, for {@link WeightInit#ZEROS} builds,
 * which mostly only count parameters and MACs.
 *
 * <p>An allocated tensor is zeroed eagerly, and touching fresh memory is slow on some machines
 * (about 3 s for VGG's 400 MB fully connected weights in a virtual machine). A large tensor is
 * therefore a private (copy-on-write) mapping of a sparse temporary file instead: it reads as
 * zeros, accepts writes, and uses memory only for the pages that are touched. The file is
 * deleted at once (the mapping keeps its pages); the tensor owns the mapping's arena, so
 * {@code close} unmaps it.
 */
final class ZeroTensors {
    /** Below this, ordinary allocation is fast enough and frees deterministically. */
    private static final long MAPPING_THRESHOLD_BYTES = 1 << 20;

    private ZeroTensors() {
    }

    static Tensor create(Shape shape) {
        long bytes = shape.elementCount() * Float.BYTES;
        if (bytes < MAPPING_THRESHOLD_BYTES) {
            return Tensor.allocate(shape);
        }
        Arena arena = Arena.ofShared();
        try {
            return Tensor.wrap(mapZeros(bytes, arena), shape, arena);
        } catch (IOException | UnsupportedOperationException e) {
            arena.close();
            return Tensor.allocate(shape); // no usable temporary directory: pay for the memory
        }
    }

    private static MemorySegment mapZeros(long bytes, Arena arena) throws IOException {
        Path file = Files.createTempFile("kiln-zeros", ".bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE)) {
            channel.write(ByteBuffer.allocate(1), bytes - 1); // sets the length; the rest stays a hole
            return channel.map(FileChannel.MapMode.PRIVATE, 0, bytes, arena);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
