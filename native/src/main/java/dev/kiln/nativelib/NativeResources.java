package dev.kiln.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Native memory and handles that live exactly as long as one Java owner (a compiled partition,
 * a workspace): memory comes from one shared arena, native objects register their destructor,
 * and {@link #close()} releases everything once, newest first (a primitive before the
 * descriptors it was made from). Closing again does nothing; allocating after close fails.
 */
public final class NativeResources implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Deque<Runnable> releases = new ArrayDeque<>();
    private boolean closed;

    /** {@code bytes} of zeroed native memory aligned to {@code alignment}. */
    public synchronized MemorySegment allocate(long bytes, long alignment) {
        requireOpen();
        return arena.allocate(Math.max(bytes, 1), alignment);
    }

    /** The arena, for short allocations owned by the same lifetime (argument arrays). */
    public Arena arena() {
        return arena;
    }

    /** Registers what frees a native object, run at {@link #close()}; returns {@code handle} for chaining. */
    public synchronized <T> T own(T handle, Runnable release) {
        requireOpen();
        releases.push(release);
        return handle;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("native resources already released");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        while (!releases.isEmpty()) {
            try {
                releases.pop().run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        arena.close();
        if (failure != null) {
            throw failure;
        }
    }
}
