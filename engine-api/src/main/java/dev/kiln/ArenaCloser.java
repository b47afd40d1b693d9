package dev.kiln;

import java.lang.foreign.Arena;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closes the shared arenas of released tensors on a thread of its own. Closing a shared arena
 * waits for a handshake with every Java thread (measured 50 us in a bare JVM, 140-250 us in an
 * engine's), and a run's output tensor, closed by its caller, should not cost the caller that.
 * The memory stays mapped until the arena closes, so a stray access in between reads old data
 * rather than crashing; once closed, access fails as it always does.
 *
 * <p>Bounded: when more than {@link #MAX_PENDING_BYTES} wait, the caller closes its arena itself.
 */
final class ArenaCloser {
    static final long MAX_PENDING_BYTES = 64L << 20;

    private static final LinkedBlockingQueue<Pending> QUEUE = new LinkedBlockingQueue<>();
    private static final AtomicLong PENDING_BYTES = new AtomicLong();

    private record Pending(Arena arena, long bytes) {
    }

    static {
        Thread closer = new Thread(ArenaCloser::closeForever, "kiln-arena-closer");
        closer.setDaemon(true);
        closer.start();
    }

    private ArenaCloser() {
    }

    /** Closes {@code arena}, which holds {@code bytes}, soon; or now when too much already waits. */
    static void close(Arena arena, long bytes) {
        if (PENDING_BYTES.addAndGet(bytes) > MAX_PENDING_BYTES) {
            PENDING_BYTES.addAndGet(-bytes);
            arena.close();
            return;
        }
        QUEUE.add(new Pending(arena, bytes));
    }

    private static void closeForever() {
        while (true) {
            Pending next;
            try {
                next = QUEUE.take();
            } catch (InterruptedException e) {
                continue; // a daemon that nobody interrupts on purpose
            }
            try {
                next.arena().close();
            } finally {
                PENDING_BYTES.addAndGet(-next.bytes());
            }
        }
    }
}
