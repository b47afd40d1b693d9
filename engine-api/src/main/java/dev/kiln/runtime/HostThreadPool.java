package dev.kiln.runtime;

import dev.kiln.spi.HostThreads;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The engine's host threads: one fork-join pool per size, shared by every engine of that size,
 * so two engines in one JVM do not double the threads. A whole model run executes as a task in
 * the pool ({@link #call}) and its kernels fork inside it, so any number of callers share the
 * same cores instead of each adding a thread. Workers are daemons and park when idle.
 */
public final class HostThreadPool implements HostThreads {
    private static final Map<Integer, HostThreadPool> SHARED = new ConcurrentHashMap<>();

    private final ForkJoinPool pool;

    private HostThreadPool(int threads) {
        AtomicInteger count = new AtomicInteger();
        this.pool = new ForkJoinPool(threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("kiln-worker-" + threads + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /** The pool with this many threads, created on first use and kept for the life of the JVM. */
    public static HostThreadPool shared(int threads) {
        return SHARED.computeIfAbsent(threads, HostThreadPool::new);
    }

    @Override
    public int parallelism() {
        return pool.getParallelism();
    }

    /** Runs {@code work} as a task of this pool (inline when already on one of its threads) and returns its result. */
    public <T> T call(Supplier<T> work) {
        if (onThisPool()) {
            return work.get();
        }
        return pool.invoke(ForkJoinTask.adapt(work::get));
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        if (count <= 0) {
            return;
        }
        if (count == 1 || pool.getParallelism() == 1) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
            return;
        }
        Range all = new Range(task, 0, count);
        if (onThisPool()) {
            all.invoke();
        } else {
            pool.invoke(all);
        }
    }

    private boolean onThisPool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    /** Splits [from, to) in halves down to single tasks; idle workers steal the halves. */
    private static final class Range extends RecursiveAction {
        private final IntConsumer task;
        private final int from;
        private final int to;

        Range(IntConsumer task, int from, int to) {
            this.task = task;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                task.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(task, from, mid), new Range(task, mid, to));
        }
    }
}
