package dev.kiln.runtime;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** withParallelism keeps a caller's loops to its share of a larger pool, and only its own. */
class HostThreadPoolParallelismTest {
    // A pool size no other test uses, so its workers are idle when these tests start.
    private static final int POOL = 5;

    /** Threads that ran the loop's tasks; the tasks wait (300 ms at most in all) for others to join, so idle workers do. */
    private static Set<Thread> loopThreads(HostThreadPool pool, int wanted) {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        pool.call(() -> {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            pool.parallelFor(64, i -> {
                seen.add(Thread.currentThread());
                while (seen.size() < wanted && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            });
            return null;
        });
        return seen;
    }

    @Test
    void uncappedLoopsSpreadOverIdleWorkers() {
        assertTrue(loopThreads(HostThreadPool.shared(POOL), 3).size() >= 3,
                "without a cap, a loop on an idle pool of " + POOL + " takes more than two threads");
    }

    @Test
    void cappedLoopsUseAtMostTheCap() {
        HostThreadPool pool = HostThreadPool.shared(POOL);
        Set<Thread> threads = HostThreadPool.withParallelism(2, () -> loopThreads(pool, 3));
        assertTrue(threads.size() <= 2, "capped at 2, the loop ran on " + threads.size() + " threads");
        assertTrue(threads.stream().allMatch(t -> t.getName().startsWith("kiln-worker-" + POOL + "-")),
                "the run itself went to the pool");
    }

    @Test
    void capOfOneRunsTheLoopOnTheJobsThread() {
        HostThreadPool pool = HostThreadPool.shared(POOL);
        AtomicInteger count = new AtomicInteger();
        Set<Thread> threads = HostThreadPool.withParallelism(1, () -> {
            Set<Thread> seen = loopThreads(pool, 2);
            count.set(seen.size());
            return seen;
        });
        assertEquals(1, count.get(), "threads: " + threads);
    }

    @Test
    void capMustBePositive() {
        var e = assertThrows(IllegalArgumentException.class, () -> HostThreadPool.withParallelism(0, () -> null));
        assertEquals("maxThreads must be at least 1, got 0", e.getMessage());
    }
}
