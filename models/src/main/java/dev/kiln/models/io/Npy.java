package dev.kiln.models.io;

import dev.kiln.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads and writes NumPy {@code .npy} files as {@link Tensor}s. Reading accepts little-endian
 * float32 ({@code <f4}) and float64 ({@code <f8}, converted to float32) arrays in C order, with
 * format version 1.0, 2.0 or 3.0 headers; writing produces a version 1.0 {@code <f4} file that
 * {@code numpy.load} reads.
 *
 * <p>The header is checked against the file's size before anything is allocated, and the data
 * is memory-mapped and copied once into the tensor.
 */
public final class Npy {
    private static final ValueLayout.OfFloat LITTLE_ENDIAN_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LITTLE_ENDIAN_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat NATIVE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int WRITE_CHUNK_FLOATS = 1 << 18;

    private Npy() {
    }

    /**
     * Reads a {@code .npy} file into a new tensor, which the caller must close.
     *
     * @throws NpyFormatException if the file is not a {@code .npy} file, is truncated, or holds an
     *                            unsupported dtype or Fortran-order data; the message names the file
     * @throws IOException        if the file cannot be read or is not a regular file
     */
    public static Tensor read(Path file) throws IOException {
        RegularFiles.requireRegular(file, ".npy file"); // a FIFO would block the open below
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             Arena mapping = Arena.ofConfined()) {
            NpyHeader header = NpyHeader.read(channel, file);
            Tensor tensor = Tensor.allocate(header.shape());
            try {
                if (header.dataBytes() > 0) {
                    MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, header.dataOffset(),
                            header.dataBytes(), mapping);
                    copyAsFloats(data, header.dtype(), tensor.segment(), header.elementCount());
                }
                return tensor;
            } catch (IOException | RuntimeException | Error e) {
                tensor.close();
                throw e;
            }
        }
    }

    private static void copyAsFloats(MemorySegment data, NpyHeader.Dtype dtype, MemorySegment out, long count) {
        switch (dtype) {
            case FLOAT32 -> MemorySegment.copy(data, LITTLE_ENDIAN_FLOAT, 0, out, NATIVE_FLOAT, 0, count);
            case FLOAT64 -> {
                for (long i = 0; i < count; i++) {
                    out.setAtIndex(NATIVE_FLOAT, i, (float) data.getAtIndex(LITTLE_ENDIAN_DOUBLE, i));
                }
            }
        }
    }

    /** Writes a tensor as a float32 C-order {@code .npy} file, replacing the file if it exists. */
    public static void write(Path file, Tensor tensor) throws IOException {
        MemorySegment values = tensor.segment();
        long count = tensor.elementCount();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(channel, ByteBuffer.wrap(NpyHeader.encodeFloat32(tensor.shape())));
            byte[] chunk = new byte[(int) Math.min(count, WRITE_CHUNK_FLOATS) * Float.BYTES];
            MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
            for (long done = 0; done < count; ) {
                int n = (int) Math.min(count - done, WRITE_CHUNK_FLOATS);
                MemorySegment.copy(values, NATIVE_FLOAT, done * Float.BYTES, chunkSegment, LITTLE_ENDIAN_FLOAT, 0, n);
                writeFully(channel, ByteBuffer.wrap(chunk, 0, n * Float.BYTES));
                done += n;
            }
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
