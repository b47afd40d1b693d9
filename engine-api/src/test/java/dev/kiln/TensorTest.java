package dev.kiln;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {
    private static final ValueLayout.OfFloat NATIVE_FLOAT = ValueLayout.JAVA_FLOAT;

    @Test
    void allocateIsZeroFilled() {
        // Dirty and free a block first, so that a reused block would show through.
        try (Tensor dirty = Tensor.allocate(1000)) {
            for (int i = 0; i < 1000; i++) {
                dirty.set(i, 42f);
            }
        }
        try (Tensor t = Tensor.allocate(1000)) {
            assertArrayEquals(new float[1000], t.toFloatArray());
        }
    }

    @Test
    void allocateAlignsTo64Bytes() {
        for (int n : new int[] {1, 3, 17, 1000, 4099}) {
            try (Tensor t = Tensor.allocate(n)) {
                assertEquals(0, t.segment().address() % 64, "tensor of " + n + " floats");
                assertEquals(4L * n, t.segment().byteSize());
            }
        }
    }

    @Test
    void ofCopiesTheValuesInRowMajorOrder() {
        float[] values = {1, 2, 3, 4, 5, 6};
        try (Tensor t = Tensor.of(Shape.of(2, 3), values)) {
            values[0] = 99; // the tensor holds a copy
            assertEquals(Shape.of(2, 3), t.shape());
            assertEquals(6, t.elementCount());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
            assertEquals(6f, t.get(5));
        }
    }

    @Test
    void ofChecksTheNumberOfValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(Shape.of(2, 2), 1, 2, 3));
        assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("4")
                && e.getMessage().contains("3"), e.getMessage());
    }

    @Test
    void aSymbolicShapeCannotHoldData() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(Shape.of(Shape.DYNAMIC, 3)));
        assertTrue(e.getMessage().contains("[?, 3]"), e.getMessage());
    }

    @Test
    void wrappedSegmentIsSharedNotCopied() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(6 * Float.BYTES, 4);
            memory.setAtIndex(NATIVE_FLOAT, 0, 1.5f);
            try (Tensor t = Tensor.wrap(memory, Shape.of(2, 3))) {
                assertEquals(1.5f, t.get(0));
                t.set(4, 7f);
                assertEquals(7f, memory.getAtIndex(NATIVE_FLOAT, 4));
                memory.setAtIndex(NATIVE_FLOAT, 5, -2f);
                assertEquals(-2f, t.get(5));
            }
            // Closing the wrapper leaves the caller's memory alone.
            assertEquals(7f, memory.getAtIndex(NATIVE_FLOAT, 4));
        }
    }

    @Test
    void aSegmentTooSmallForTheShapeIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(5 * Float.BYTES, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(memory, Shape.of(2, 3)));
            assertTrue(e.getMessage().contains("20 bytes") && e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }

    @Test
    void wrappedDirectBufferIsSharedNotCopied() {
        FloatBuffer buffer = ByteBuffer.allocateDirect(4 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buffer.put(0, 3f);
        try (Tensor t = Tensor.wrap(buffer, Shape.of(4))) {
            assertEquals(3f, t.get(0));
            t.set(2, 9f);
            assertEquals(9f, buffer.get(2));
        }
    }

    @Test
    void wrappedBufferStartsAtItsPosition() {
        FloatBuffer buffer = ByteBuffer.allocateDirect(4 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buffer.put(new float[] {1, 2, 3, 4}).position(1);
        try (Tensor t = Tensor.wrap(buffer, Shape.of(3))) {
            assertArrayEquals(new float[] {2, 3, 4}, t.toFloatArray());
        }
    }

    @Test
    void aHeapBufferIsRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.wrap(FloatBuffer.allocate(4), Shape.of(4)));
        assertTrue(e.getMessage().contains("direct"), e.getMessage());
    }

    @Test
    void aBufferInTheOtherByteOrderIsRefusedWithAReason() {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN;
        FloatBuffer buffer = ByteBuffer.allocateDirect(16).order(other).asFloatBuffer();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.wrap(buffer, Shape.of(4)));
        assertTrue(e.getMessage().contains("byte order") && e.getMessage().contains(other.toString()),
                e.getMessage());
    }

    @Test
    void closeIsIdempotent() {
        Tensor t = Tensor.allocate(4);
        assertFalse(t.isClosed());
        t.close();
        assertTrue(t.isClosed());
        assertDoesNotThrow(t::close);
        assertTrue(t.toString().contains("closed"));
    }

    /** An allocated tensor's memory is freed off the closing thread, soon, and is then gone for good. */
    @Test
    void closingReleasesTheMemorySoonAfter() throws InterruptedException {
        Tensor t = Tensor.allocate(1000);
        MemorySegment memory = t.segment();
        t.close();
        awaitClosed(memory);
        assertThrows(IllegalStateException.class, () -> memory.get(ValueLayout.JAVA_FLOAT, 0));
    }

    /** The closer sleeps after a second without arenas to close; the next one still wakes it. */
    @Test
    void aTensorClosedAfterTheCloserFellAsleepIsStillFreed() throws InterruptedException {
        Tensor.allocate(16).close();
        // Asleep is parked without a timeout (its polls park with one): WAITING, not TIMED_WAITING.
        Thread closer = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.getName().equals("kiln-arena-closer")).findFirst().orElseThrow();
        awaitCondition(() -> closer.getState() == Thread.State.WAITING, "the arena closer to fall asleep");
        Tensor t = Tensor.allocate(16);
        MemorySegment memory = t.segment();
        t.close();
        awaitClosed(memory);
    }

    private static void awaitClosed(MemorySegment memory) throws InterruptedException {
        awaitCondition(() -> !memory.scope().isAlive(), "the arena of a closed tensor to close");
    }

    /**
     * Checks {@code condition} every millisecond until it holds, for what signals no one when it
     * happens; fails only after a minute, a hang guard that a slow or busy machine never trips.
     */
    private static void awaitCondition(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "waited a minute for " + what);
            Thread.sleep(1);
        }
    }

    /** More than the closer may hold back is freed by the closing thread itself: waiting memory stays bounded. */
    @Test
    void aTensorLargerThanTheCloserHoldsIsFreedAtOnce() {
        Tensor t = Tensor.allocate((int) (ArenaCloser.MAX_PENDING_BYTES / Float.BYTES) + 1);
        MemorySegment memory = t.segment();
        t.close();
        assertFalse(memory.scope().isAlive());
    }

    /** A confined arena handed over with the memory can only be closed by its thread: close does it there. */
    @Test
    void aWrappedArenaIsClosedByTheThreadThatClosesTheTensor() {
        Arena confined = Arena.ofConfined();
        Tensor t = Tensor.wrap(confined.allocate(16), Shape.of(4), confined);
        t.close();
        assertFalse(confined.scope().isAlive());
    }

    @Test
    void useAfterCloseThrowsWithAMessage() {
        Tensor t = Tensor.of(Shape.of(2, 2), 1, 2, 3, 4);
        t.close();
        for (org.junit.jupiter.api.function.Executable use : new org.junit.jupiter.api.function.Executable[] {
                () -> t.get(0), () -> t.set(0, 1f), t::toFloatArray, t::segment, t::copy,
                () -> t.copyFrom(new float[] {1, 2, 3, 4})}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, use);
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("[2, 2]"), e.getMessage());
        }
    }

    @Test
    void copyIsIndependentOfTheOriginal() {
        try (Tensor a = Tensor.of(Shape.of(3), 1, 2, 3); Tensor b = a.copy()) {
            a.set(0, 10f);
            assertArrayEquals(new float[] {1, 2, 3}, b.toFloatArray());
        }
    }

    @Test
    void copyBetweenDifferentShapesIsRefused() {
        try (Tensor a = Tensor.allocate(2, 3); Tensor b = Tensor.allocate(3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.copyFrom(b));
            assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(new float[5]));
        }
    }
}
