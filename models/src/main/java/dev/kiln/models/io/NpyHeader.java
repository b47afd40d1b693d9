package dev.kiln.models.io;

import dev.kiln.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The header of a {@code .npy} file as the NumPy format specification (versions 1.0, 2.0 and
 * 3.0) defines it: the magic string, a version, the header length, then a Python dict literal
 * with {@code descr}, {@code fortran_order} and {@code shape}, padded so the data starts on a
 * 64-byte boundary.
 *
 * @param dtype      the element type of the data
 * @param shape      the array's shape, C order
 * @param dataOffset where the data starts in the file
 */
record NpyHeader(Dtype dtype, Shape shape, long dataOffset) {

    /** The element types Kiln reads; both little-endian. */
    enum Dtype {
        FLOAT32("<f4", 4),
        FLOAT64("<f8", 8);

        final String descr;
        final int bytes;

        Dtype(String descr, int bytes) {
            this.descr = descr;
            this.bytes = bytes;
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGNMENT = 64;
    /** NumPy refuses headers over 10,000 characters by default; this bound only stops a hostile length allocating. */
    private static final int MAX_HEADER_BYTES = 1 << 20;

    long elementCount() {
        return shape.elementCount();
    }

    long dataBytes() {
        return elementCount() * dtype.bytes;
    }

    /**
     * Reads and checks the header at the start of {@code channel}, including that the file holds
     * as much data as the header declares, so a caller can allocate safely afterwards.
     */
    static NpyHeader read(FileChannel channel, Path file) throws IOException {
        long fileSize = channel.size();
        ByteBuffer prefix = readAt(channel, 0, 10, file, "the magic string, version and header length");
        byte[] magic = new byte[MAGIC.length];
        prefix.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new NpyFormatException(file + ": not a .npy file (the first bytes are not \\x93NUMPY)");
        }
        int major = prefix.get() & 0xff;
        int minor = prefix.get() & 0xff;
        long headerLength;
        int lengthFieldEnd;
        switch (major) {
            case 1 -> {
                headerLength = prefix.getShort() & 0xffff;
                lengthFieldEnd = 10;
            }
            case 2, 3 -> {
                ByteBuffer length = readAt(channel, 8, 4, file, "the header length");
                headerLength = length.getInt() & 0xffffffffL;
                lengthFieldEnd = 12;
            }
            default -> throw new NpyFormatException(file + ": .npy format version " + major + "." + minor
                    + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpyFormatException(file + ": the header declares " + headerLength
                    + " bytes, more than the " + MAX_HEADER_BYTES + " a .npy header may have here");
        }
        if (lengthFieldEnd + headerLength > fileSize) {
            throw new NpyFormatException(file + ": truncated: the header declares " + headerLength
                    + " bytes but the file has only " + (fileSize - lengthFieldEnd) + " after the length field");
        }
        ByteBuffer headerBytes = readAt(channel, lengthFieldEnd, (int) headerLength, file, "the header");
        // Version 3.0 only changed the header's encoding from latin-1 to UTF-8.
        Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        String text = charset.decode(headerBytes).toString();
        NpyHeader header = parseDict(text, lengthFieldEnd + headerLength, file);

        long available = fileSize - header.dataOffset;
        if (header.dataBytes() > available) {
            throw new NpyFormatException(file + ": truncated: the header declares shape " + header.shape + " of "
                    + header.dtype.descr + ", " + header.dataBytes() + " bytes of data, but the file holds only "
                    + available + " after its header");
        }
        return header;
    }

    private static NpyHeader parseDict(String text, long dataOffset, Path file) throws NpyFormatException {
        Object parsed;
        try {
            parsed = PythonLiteral.parse(text);
        } catch (IllegalArgumentException e) {
            throw new NpyFormatException(file + ": the header is not a valid Python literal: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> dict)) {
            throw new NpyFormatException(file + ": the header is not a dictionary: " + text.strip());
        }
        Object descr = dict.get("descr");
        Object fortranOrder = dict.get("fortran_order");
        Object shape = dict.get("shape");
        if (descr == null || fortranOrder == null || shape == null) {
            throw new NpyFormatException(file + ": the header lacks 'descr', 'fortran_order' or 'shape': "
                    + text.strip());
        }
        if (!Boolean.FALSE.equals(fortranOrder)) {
            throw new NpyFormatException(file + ": the array is stored in Fortran (column-major) order "
                    + "(fortran_order: " + (Boolean.TRUE.equals(fortranOrder) ? "True" : fortranOrder)
                    + "); only C order is supported (save np.ascontiguousarray(a))");
        }
        return new NpyHeader(dtype(descr, file), shape(shape, file), dataOffset);
    }

    private static Dtype dtype(Object descr, Path file) throws NpyFormatException {
        for (Dtype d : Dtype.values()) {
            if (d.descr.equals(descr)) {
                return d;
            }
        }
        String found = descr instanceof String s ? "'" + s + "'" : String.valueOf(descr);
        String hint = descr instanceof String s && s.startsWith(">")
                ? " (big-endian data is not supported; save a.astype('<f4'))"
                : "";
        throw new NpyFormatException(file + ": unsupported dtype " + found
                + "; expected little-endian float32 '<f4' or float64 '<f8'" + hint);
    }

    private static Shape shape(Object shape, Path file) throws NpyFormatException {
        if (!(shape instanceof List<?> dims)) {
            throw new NpyFormatException(file + ": the shape is not a tuple: " + shape);
        }
        int[] out = new int[dims.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new NpyFormatException(file + ": dimension " + i + " of shape " + shape
                        + " is not an integer from 0 to " + Integer.MAX_VALUE);
            }
            out[i] = (int) (long) d;
        }
        Shape result = Shape.of(out);
        try {
            Math.multiplyExact(result.elementCount(), 8L);
        } catch (ArithmeticException e) {
            throw new NpyFormatException(file + ": shape " + result + " has more elements than a file can hold");
        }
        return result;
    }

    private static ByteBuffer readAt(FileChannel channel, long position, int length, Path file, String what)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new NpyFormatException(file + ": truncated: the file ends after " + channel.size()
                        + " bytes, before the end of " + what);
            }
        }
        return buffer.flip();
    }

    /** A version 1.0 header for float32 C-order data of this shape, padded to the alignment NumPy uses. */
    static byte[] encodeFloat32(Shape shape) {
        String dims = Arrays.stream(shape.dims()).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        // Python writes a one-element tuple with a trailing comma: (3,)
        String tuple = "(" + dims + (shape.rank() == 1 ? ",)" : ")");
        String dict = "{'descr': '" + Dtype.FLOAT32.descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        int prefix = MAGIC.length + 2 + 2;
        int unpadded = prefix + dict.length() + 1;
        int padding = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
        String header = dict + " ".repeat(padding) + "\n";
        byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(prefix + text.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
        return out.array();
    }
}
