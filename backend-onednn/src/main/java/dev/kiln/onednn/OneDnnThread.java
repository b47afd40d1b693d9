package dev.kiln.onednn;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The one thread, per engine thread count, from which all of oneDNN's work for engines of that
 * count runs: creating primitives, preparing weights, executing. GNU OpenMP gives every thread
 * that starts a parallel region a team of helpers of its own, and once it manages more threads
 * than there are CPUs it cuts their spinning to a hundred rounds: a helper then sleeps between
 * two primitives, and wakes on the core of the thread that woke it. With the engine's workers
 * each starting regions, that was most runs (MobileNet v2 in the ratio harness: 8.0 -> 4.4 ms
 * with one thread, ONNX Runtime 4.0-4.1 in the same runs). One thread per count keeps one team,
 * as the engine's host pool keeps one set of workers per count: runs of engines of one count
 * share those cores in turn rather than dividing them.
 *
 * <p>Engines of one thread have no helpers to duplicate: their work runs on the calling thread
 * itself, with no hand-over, and callers of such engines run side by side rather than in turn.
 */
final class OneDnnThread {
    private static final Map<Integer, OneDnnThread> BY_COUNT = new ConcurrentHashMap<>();

    private static final OneDnnThread CALLERS = new OneDnnThread();

    private final ExecutorService executor; // null: every caller runs its own work
    private final Thread thread;

    private OneDnnThread() {
        executor = null;
        thread = null;
    }

    private OneDnnThread(int threads) {
        Thread[] made = new Thread[1];
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kiln-onednn-" + threads);
            t.setDaemon(true);
            made[0] = t;
            return t;
        });
        try {
            executor.submit(() -> { }).get(); // starts the thread, so that it is known from here on
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException("could not start the oneDNN thread", e);
        }
        thread = made[0];
    }

    /**
     * The thread for engines of {@code threads} threads, started on first use and kept for the
     * JVM's life; for one thread, the callers' own.
     */
    static OneDnnThread forCount(int threads) {
        return threads == 1 ? CALLERS : BY_COUNT.computeIfAbsent(threads, OneDnnThread::new);
    }

    /** Runs {@code job} on this thread (inline when already on it) and returns its result or rethrows its failure. */
    <T> T call(Supplier<T> job) {
        if (executor == null || Thread.currentThread() == thread) {
            return job.get();
        }
        return await(executor.submit(job::get));
    }

    /**
     * The job's result, or its failure rethrown unchecked. An interrupt does not end the wait
     * (oneDNN may be computing on buffers the caller owns); it is re-asserted once the job is done.
     */
    private static <T> T await(Future<T> job) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return job.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    void run(Runnable job) {
        call(() -> {
            job.run();
            return null;
        });
    }
}
