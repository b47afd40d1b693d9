package dev.kiln.models.io;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsShapeAndEveryValue() throws IOException {
        Random random = new Random(7);
        for (Shape shape : new Shape[]{Shape.of(2, 3, 4, 5), Shape.of(7), Shape.of(), Shape.of(0, 3),
                Shape.of(1, 300_001)}) {
            float[] values = new float[shape.elementCountInt()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            Path file = dir.resolve("roundtrip.npy");
            try (Tensor t = Tensor.of(shape, values)) {
                Npy.write(file, t);
            }
            try (Tensor back = Npy.read(file)) {
                assertEquals(shape, back.shape());
                assertArrayEquals(values, back.toFloatArray());
            }
        }
    }

    @Test
    void writtenFileFollowsTheFormatSpec() throws IOException {
        Path file = dir.resolve("spec.npy");
        try (Tensor t = Tensor.of(Shape.of(3), 1f, -2f, 0.5f)) {
            Npy.write(file, t);
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((byte) 0x93, buf.get());
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
        buf.position(6);
        assertEquals(1, buf.get());
        assertEquals(0, buf.get());
        int headerLength = buf.getShort() & 0xffff;
        int dataStart = 10 + headerLength;
        assertEquals(0, dataStart % 64, "data must start on a 64-byte boundary");
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), header);
        assertTrue(header.endsWith("\n"), "the header ends with a newline");
        buf.position(dataStart);
        assertEquals(1f, buf.getFloat());
        assertEquals(-2f, buf.getFloat());
        assertEquals(0.5f, buf.getFloat());
        assertEquals(dataStart + 12, bytes.length);
    }

    @Test
    void readsAHandBuiltVersion1Float32File() throws IOException {
        // Keys in another order, double quotes and extra spaces: any valid dict literal must do.
        Path file = write("hand.npy", npy(1, "{\"shape\": (2, 3), 'fortran_order':False, 'descr': '<f4'}",
                le(new float[]{1, 2, 3, 4, 5, 6})));
        try (Tensor t = Npy.read(file)) {
            assertEquals(Shape.of(2, 3), t.shape());
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, t.toFloatArray());
        }
    }

    @Test
    void readsVersion2Float64AndConvertsToFloat32() throws IOException {
        double[] values = {0.1, -1e30, 3.5, 1.0 / 3};
        ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            data.putDouble(v);
        }
        Path file = write("f8.npy", npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                data.array()));
        try (Tensor t = Npy.read(file)) {
            assertEquals(Shape.of(4), t.shape());
            assertArrayEquals(new float[]{0.1f, -1e30f, 3.5f, 1f / 3}, t.toFloatArray());
        }
    }

    @Test
    void readsVersion3WithAUtf8Header() throws IOException {
        Path file = write("v3.npy", npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'é': 1}",
                le(new float[]{42f})));
        try (Tensor t = Npy.read(file)) {
            assertEquals(Shape.of(1, 1), t.shape());
            assertEquals(42f, t.get(0));
        }
    }

    @Test
    void truncatedDataIsRefusedNamingTheFile() throws IOException {
        Path file = write("short.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                le(new float[]{1, 2, 3})));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("short.npy") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aTinyFileDeclaringAHugeShapeIsRefusedBeforeAllocating() throws IOException {
        // 4 TB declared in a file of a few hundred bytes: allocating first would fail with an OutOfMemoryError.
        Path huge = write("huge.npy",
                npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100), }", new byte[16]));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(huge));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("4000000000000"), e.getMessage());

        Path overflow = write("overflow.npy", npy(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }",
                new byte[0]));
        NpyFormatException o = assertThrows(NpyFormatException.class, () -> Npy.read(overflow));
        assertTrue(o.getMessage().contains("overflow.npy"), o.getMessage());
    }

    @Test
    void aFileCutInsideItsHeaderIsRefused() throws IOException {
        byte[] whole = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", le(new float[]{1}));
        Path file = write("cut.npy", java.util.Arrays.copyOf(whole, 30));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("cut.npy") && e.getMessage().contains("truncated"), e.getMessage());

        Path tiny = write("tiny.npy", new byte[]{(byte) 0x93, 'N', 'U'});
        assertThrows(NpyFormatException.class, () -> Npy.read(tiny));
    }

    @Test
    void badMagicIsRefused() throws IOException {
        byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", le(new float[]{1}));
        bytes[1] = 'X';
        Path file = write("magic.npy", bytes);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("magic.npy") && e.getMessage().contains("not a .npy file"),
                e.getMessage());
    }

    @Test
    void unknownVersionIsRefused() throws IOException {
        Path file = write("v9.npy", npy(9, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                le(new float[]{1})));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("version 9.0"), e.getMessage());
    }

    @Test
    void fortranOrderIsRefused() throws IOException {
        Path file = write("fortran.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                le(new float[]{1, 2, 3, 4})));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("fortran.npy") && e.getMessage().contains("Fortran"), e.getMessage());
    }

    @Test
    void unsupportedDtypesAreRefusedNamingWhatWasFound() throws IOException {
        Path ints = write("ints.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
                new byte[4]));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(ints));
        assertTrue(e.getMessage().contains("ints.npy") && e.getMessage().contains("'<i4'"), e.getMessage());

        Path bigEndian = write("big.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                new byte[4]));
        NpyFormatException b = assertThrows(NpyFormatException.class, () -> Npy.read(bigEndian));
        assertTrue(b.getMessage().contains("'>f4'") && b.getMessage().contains("big-endian"), b.getMessage());

        Path structured = write("rec.npy", npy(1,
                "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[8]));
        NpyFormatException s = assertThrows(NpyFormatException.class, () -> Npy.read(structured));
        assertTrue(s.getMessage().contains("unsupported dtype"), s.getMessage());
    }

    @Test
    void aHeaderThatIsNotADictIsRefused() throws IOException {
        Path file = write("garbage.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", new byte[4]));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains("garbage.npy"), e.getMessage());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /**
     * A .npy file built from the format spec alone: magic, version, little-endian header length
     * (2 bytes in 1.0, 4 bytes later), the dict padded with spaces and a newline to 64 bytes, data.
     */
    private static byte[] npy(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] dictBytes = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int unpadded = 6 + 2 + lengthBytes + dictBytes.length + 1;
        int padding = (64 - unpadded % 64) % 64;
        ByteBuffer header = ByteBuffer.allocate(6 + 2 + lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        header.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        int headerLength = dictBytes.length + padding + 1;
        if (major == 1) {
            header.putShort((short) headerLength);
        } else {
            header.putInt(headerLength);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header.array());
        out.writeBytes(dictBytes);
        out.writeBytes(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
        out.write('\n');
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] le(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
