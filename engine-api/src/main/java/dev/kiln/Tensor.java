package dev.kiln;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A dense float32 tensor in off-heap memory, row-major over its {@link Shape} (NCHW for
 * images). A tensor either owns its memory (allocated 64-byte aligned, freed by
 * {@link #close()}) or wraps memory the caller owns, without copying.
 *
 * <p>Reads and writes from several threads are the caller's to order; {@code close} must not
 * race with use.
 */
public final class Tensor implements AutoCloseable {
    /** Cache-line and AVX-512 alignment for owned tensors. */
    public static final long ALIGNMENT = 64;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Bytes of tensors made by {@link #allocate} and not yet closed, in this JVM. */
    private static final AtomicLong ALLOCATED_BYTES = new AtomicLong();

    private final Shape shape;
    private final MemorySegment segment;
    private final Arena arena; // null when the memory belongs to the caller
    private final long countedBytes; // what this tensor adds to ALLOCATED_BYTES while open
    private final boolean allocated; // arena is a shared one that allocate() made
    private volatile boolean closed;

    private Tensor(Shape shape, MemorySegment segment, Arena arena) {
        this(shape, segment, arena, 0, false);
    }

    private Tensor(Shape shape, MemorySegment segment, Arena arena, long countedBytes, boolean allocated) {
        this.shape = shape;
        this.segment = segment;
        this.arena = arena;
        this.countedBytes = countedBytes;
        this.allocated = allocated;
    }

    /**
     * Bytes held by tensors that {@link #allocate} made (directly, or through {@link #of} and
     * {@link #copy}) and that are not closed yet, over the whole JVM: the engine's own account of
     * its off-heap memory, to find tensors that nobody closes.
     */
    public static long allocatedBytes() {
        return ALLOCATED_BYTES.get();
    }

    /** A zero-filled tensor that owns its memory. */
    public static Tensor allocate(Shape shape) {
        requireConcrete(shape);
        long bytes = Math.multiplyExact(shape.elementCount(), Float.BYTES);
        Arena arena = Arena.ofShared();
        try {
            Tensor t = new Tensor(shape, arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes), arena, bytes,
                    true);
            ALLOCATED_BYTES.addAndGet(bytes);
            return t;
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    public static Tensor allocate(int... dims) {
        return allocate(Shape.of(dims));
    }

    /** An owned copy of {@code values}, which must hold exactly as many elements as the shape. */
    public static Tensor of(Shape shape, float... values) {
        requireConcrete(shape);
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.elementCount()
                    + " values, got " + values.length);
        }
        Tensor t = allocate(shape);
        MemorySegment.copy(values, 0, t.segment, FLOAT, 0, values.length);
        return t;
    }

    /**
     * Wraps a caller's segment without copying. The segment must be at least as large as the
     * shape needs; floats are read in native byte order. The caller keeps ownership.
     */
    public static Tensor wrap(MemorySegment segment, Shape shape) {
        Objects.requireNonNull(segment, "segment");
        requireConcrete(shape);
        long bytes = Math.multiplyExact(shape.elementCount(), Float.BYTES);
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for shape "
                    + shape + " (" + bytes + " bytes)");
        }
        return new Tensor(shape, segment.asSlice(0, bytes), null);
    }

    /**
     * Wraps a segment and takes ownership of the arena it was allocated or mapped in: closing
     * the tensor closes the arena (for memory-mapped weights, say).
     */
    public static Tensor wrap(MemorySegment segment, Shape shape, Arena owner) {
        Objects.requireNonNull(owner, "owner");
        Tensor view = wrap(segment, shape);
        return new Tensor(shape, view.segment, owner);
    }

    /** Wraps a direct buffer in native byte order without copying, from its position on. */
    public static Tensor wrap(FloatBuffer buffer, Shape shape) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("only a direct FloatBuffer can be wrapped without copying; use Tensor.of");
        }
        if (buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("the buffer's byte order is " + buffer.order() + ", the platform's is "
                    + ByteOrder.nativeOrder());
        }
        MemorySegment whole = MemorySegment.ofBuffer(buffer);
        return wrap(whole, shape);
    }

    private static void requireConcrete(Shape shape) {
        Objects.requireNonNull(shape, "shape");
        if (!shape.isConcrete()) {
            throw new IllegalArgumentException("a tensor needs a concrete shape, got " + shape);
        }
    }

    public Shape shape() {
        return shape;
    }

    public long elementCount() {
        return shape.elementCount();
    }

    /** The memory, for zero-copy access by backends and callers. */
    public MemorySegment segment() {
        checkOpen();
        return segment;
    }

    public float get(long index) {
        checkOpen();
        return segment.getAtIndex(FLOAT, index);
    }

    public void set(long index, float value) {
        checkOpen();
        segment.setAtIndex(FLOAT, index, value);
    }

    public float[] toFloatArray() {
        checkOpen();
        float[] out = new float[shape.elementCountInt()];
        MemorySegment.copy(segment, FLOAT, 0, out, 0, out.length);
        return out;
    }

    /** Copies {@code values} into this tensor, starting at element {@code offset}. */
    public void copyFrom(float[] values, int from, long offset, int count) {
        checkOpen();
        MemorySegment.copy(values, from, segment, FLOAT, offset * Float.BYTES, count);
    }

    public void copyFrom(float[] values) {
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("tensor " + shape + " holds " + shape.elementCount() + " values, got "
                    + values.length);
        }
        copyFrom(values, 0, 0, values.length);
    }

    /** Copies this tensor's elements [offset, offset + count) into {@code out[to...]}. */
    public void copyTo(long offset, float[] out, int to, int count) {
        checkOpen();
        MemorySegment.copy(segment, FLOAT, offset * Float.BYTES, out, to, count);
    }

    public void copyFrom(Tensor other) {
        checkOpen();
        if (!other.shape.equals(shape)) {
            throw new IllegalArgumentException("cannot copy a " + other.shape + " tensor into a " + shape + " tensor");
        }
        MemorySegment.copy(other.segment(), 0, segment, 0, segment.byteSize());
    }

    /** An owned copy with the same shape. */
    public Tensor copy() {
        checkOpen();
        Tensor t = allocate(shape);
        t.copyFrom(this);
        return t;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
    }

    /** Frees owned memory; for a wrapping tensor it only marks it closed. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (arena == null) {
            return;
        }
        if (allocated) {
            ArenaCloser.close(arena, countedBytes); // our own shared arena: its close may wait for a handshake
        } else {
            arena.close(); // the caller's, perhaps confined to this thread
        }
        ALLOCATED_BYTES.addAndGet(-countedBytes);
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (closed ? " (closed)" : "");
    }
}
