package dev.kiln.spi;

import java.util.function.IntConsumer;

/**
 * The engine's host threads, shared by every compiled model and every backend that computes on
 * the host, so that callers on many threads never oversubscribe the cores. Kernels split their
 * work into independent tasks and hand them here instead of starting threads of their own.
 */
public interface HostThreads {

    /** How many tasks run at once at most: the pool's size. */
    int parallelism();

    /**
     * Runs {@code task.accept(i)} for every i in [0, count), spread over the pool's threads, and
     * returns when all are done. Tasks must be independent. Called from a pool thread (a nested
     * parallel loop), it runs the tasks on that thread.
     */
    void parallelFor(int count, IntConsumer task);

    /** Everything on the calling thread: for tests and for backends that want no threads. */
    HostThreads SEQUENTIAL = new HostThreads() {
        @Override
        public int parallelism() {
            return 1;
        }

        @Override
        public void parallelFor(int count, IntConsumer task) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
        }
    };
}
