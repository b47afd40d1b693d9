package dev.kiln;

import java.lang.foreign.Arena;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Closes the shared arenas of released tensors on a thread of its own. Closing a shared arena
 * waits for a handshake with every Java thread (measured 50 us in a bare JVM, 140-250 us in an
 * engine's), and a run's output tensor, closed by its caller, should not cost the caller that.
 * The memory stays mapped until the arena closes, so a stray access in between reads old data
 * rather than crashing; once closed, access fails as it always does.
 *
 * <p>While arenas keep coming the closer looks for them every {@link #POLL_NANOS}, so that
 * handing one over is a queue insertion, not a wake-up: waking a sleeping thread cost the caller
 * about 25 us per run after a model's run had left its caches cold. After a second without any,
 * it sleeps until the next one wakes it.
 *
 * <p>Bounded: when more than {@link #MAX_PENDING_BYTES} wait, the caller closes its arena itself.
 */
final class ArenaCloser {
    static final long MAX_PENDING_BYTES = 64L << 20;
    static final long POLL_NANOS = 10_000_000;
    private static final int POLLS_BEFORE_SLEEP = 100;

    private static final ConcurrentLinkedQueue<Pending> QUEUE = new ConcurrentLinkedQueue<>();
    private static final AtomicLong PENDING_BYTES = new AtomicLong();
    private static final Thread CLOSER = new Thread(ArenaCloser::closeForever, "kiln-arena-closer");
    private static volatile boolean asleep;

    private record Pending(Arena arena, long bytes) {
    }

    static {
        CLOSER.setDaemon(true);
        CLOSER.start();
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
        if (asleep) {
            LockSupport.unpark(CLOSER);
        }
    }

    private static void closeForever() {
        int emptyPolls = 0;
        while (true) {
            Pending next = QUEUE.poll();
            if (next != null) {
                emptyPolls = 0;
                try {
                    next.arena().close();
                } finally {
                    PENDING_BYTES.addAndGet(-next.bytes());
                }
            } else if (emptyPolls < POLLS_BEFORE_SLEEP) {
                emptyPolls++;
                LockSupport.parkNanos(POLL_NANOS);
            } else {
                asleep = true;
                if (QUEUE.isEmpty()) { // an arena queued after this check finds asleep set and wakes us
                    LockSupport.park();
                }
                asleep = false;
                emptyPolls = 0;
            }
        }
    }
}
