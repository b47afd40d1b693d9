package dev.kiln.runtime;

import dev.kiln.spi.HostThreads;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The engine's host threads: a fixed set of daemon workers per size, shared by every engine of
 * that size. Engines and the models they compile {@link #acquire} the pool and {@link #release}
 * it when closed; when the last user lets go, its workers end (so an application that creates
 * and closes engines does not gather threads), and the next engine of that size starts a new one. A model run is a job that one worker takes ({@link #call}: the caller waits, it
 * does not compute), and a kernel's {@link #parallelFor} inside it hands out its tasks to
 * whichever workers are idle, the worker that asked included. So any number of callers share the
 * same cores: with every worker busy, a parallel loop simply runs on the worker that started it.
 *
 * <p>Workers that run out of work spin for {@value #SPIN_MICROS} microseconds (the gap between
 * two layers of a run is shorter, and waking a parked thread costs tens of microseconds) and
 * then park; an idle engine uses no CPU. (A fork-join pool was tried first: a thread outside the
 * pool that waits on a task may run it itself, and its forks then land in the common pool, so
 * kernels ran on the caller's thread and the 2-thread runs were no faster than 1-thread ones.)
 */
public final class HostThreadPool implements HostThreads {
    private static final Map<Integer, HostThreadPool> SHARED = new HashMap<>(); // guarded by itself
    private static final long SPIN_MICROS = 200;
    /** How long a release waits for the workers to end (they end within a spin once woken). */
    private static final long STOP_WAIT_MILLIS = 10_000;
    // A caller's cap on the threads of its runs' loops (withParallelism), carried to the worker
    // that runs the job.
    private static final ScopedValue<Integer> CAP = ScopedValue.newInstance();

    private final int size;
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedDeque<Thread> sleeping = new ConcurrentLinkedDeque<>();
    private final List<Worker> workers = new ArrayList<>();
    private int users; // guarded by SHARED
    private volatile boolean stopped;

    private HostThreadPool(int size) {
        this.size = size;
        for (int i = 0; i < size; i++) {
            Worker w = new Worker(this, "kiln-worker-" + size + "-" + (i + 1));
            workers.add(w);
            w.start();
        }
    }

    /**
     * The pool with this many threads, kept for the life of the JVM: for code that has no engine
     * to close (kernel tests, benchmarks). Engines {@link #acquire} instead.
     */
    public static HostThreadPool shared(int threads) {
        return acquire(threads); // a user that never releases
    }

    /**
     * The running pool with this many threads, started if none is, with one more user: each call
     * must be matched by one {@link #release()}.
     */
    public static HostThreadPool acquire(int threads) {
        synchronized (SHARED) {
            HostThreadPool pool = SHARED.computeIfAbsent(threads, HostThreadPool::new);
            pool.users++;
            return pool;
        }
    }

    /**
     * One more user of a pool that already has one (an engine's model taking its own lease while
     * the engine holds the pool): the same pool, never a new one.
     *
     * @throws IllegalStateException when the pool's last user has released it
     */
    public void retain() {
        synchronized (SHARED) {
            if (users <= 0) {
                throw new IllegalStateException("the host thread pool of " + size + " threads has been closed");
            }
            users++;
        }
    }

    /**
     * One user fewer; the last one's release ends the workers (waiting for them, so that a caller
     * counting threads sees them gone). Jobs running then finish first; a job handed to a pool
     * after its end is refused.
     */
    public void release() {
        synchronized (SHARED) {
            if (users <= 0) {
                throw new IllegalStateException("host thread pool of " + size + " released more often than acquired");
            }
            if (--users > 0) {
                return;
            }
            SHARED.remove(size, this);
            stopped = true;
        }
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        if (onThisPool()) {
            return; // a worker cannot wait for itself; it ends when its job returns
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + STOP_WAIT_MILLIS * 1_000_000;
        for (Worker w : workers) {
            while (w.isAlive() && System.nanoTime() < deadline) {
                try {
                    w.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the last user has released this pool and its workers have been told to end. */
    public boolean stopped() {
        return stopped;
    }

    @Override
    public int parallelism() {
        return size;
    }

    /**
     * Runs {@code job} so that every parallel loop it starts on a pool, through {@link #call} or
     * {@link #parallelFor}, uses at most {@code maxThreads} threads, the one that runs the loop
     * included: a caller that owns only part of the machine (a Spark task's share of an executor
     * whose cores the pool has) keeps its model runs to that part. The work is split as without
     * the cap, so results do not change; loops nested inside a loop's tasks are not capped.
     *
     * @throws IllegalArgumentException when {@code maxThreads < 1}
     */
    public static <T> T withParallelism(int maxThreads, Supplier<T> job) {
        if (maxThreads < 1) {
            throw new IllegalArgumentException("maxThreads must be at least 1, got " + maxThreads);
        }
        return ScopedValue.where(CAP, maxThreads).call(job::get);
    }

    /** Runs {@code job} on one of the pool's threads (inline when already on one) and returns its result. */
    public <T> T call(Supplier<T> job) {
        if (onThisPool()) {
            return job.get();
        }
        Supplier<T> run = CAP.isBound() ? capped(CAP.get(), job) : job;
        FutureTask<T> task = new FutureTask<>(run::get);
        push(task);
        return await(task);
    }

    private static <T> Supplier<T> capped(int maxThreads, Supplier<T> job) {
        return () -> ScopedValue.where(CAP, maxThreads).call(job::get);
    }

    /**
     * The result of a job handed to another thread, or its failure rethrown unchecked. An
     * interrupt does not end the wait (the job may be running, natively even, on buffers the
     * caller owns); it is re-asserted once the job is done.
     */
    public static <T> T await(Future<T> job) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return job.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void parallelFor(int count, IntConsumer task) {
        if (count <= 0) {
            return;
        }
        if (!onThisPool()) {
            call(() -> {
                parallelFor(count, task);
                return null;
            });
            return;
        }
        int width = CAP.isBound() ? Math.min(size, CAP.get()) : size;
        if (count == 1 || width == 1) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
            return;
        }
        Region region = new Region(count, task, Thread.currentThread());
        for (int i = Math.min(count, width) - 1; i > 0; i--) {
            push(region);
        }
        region.run();
        region.await();
    }

    private boolean onThisPool() {
        return Thread.currentThread() instanceof Worker w && w.pool == this;
    }

    private static final class Worker extends Thread {
        final HostThreadPool pool;

        Worker(HostThreadPool pool, String name) {
            super(pool::work, name);
            this.pool = pool;
            setDaemon(true);
        }
    }

    private void push(Runnable r) {
        if (stopped) {
            throw new IllegalStateException("the host thread pool of " + size + " threads has been closed"
                    + " (every engine and model using it was closed)");
        }
        queue.add(r);
        Thread sleeper = sleeping.poll();
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
    }

    private void work() {
        Thread self = Thread.currentThread();
        while (true) {
            Runnable r = queue.poll();
            if (r == null) {
                long deadline = System.nanoTime() + SPIN_MICROS * 1000;
                while ((r = queue.poll()) == null && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
            if (r == null) {
                if (stopped) {
                    return; // released by its last user, and nothing is left to run
                }
                // Announce the sleep, then look once more: a push after the announcement unparks us.
                sleeping.push(self);
                r = queue.poll();
                if (r == null && !stopped) {
                    LockSupport.park(this);
                }
                sleeping.remove(self);
                if (r == null) {
                    continue;
                }
            }
            r.run(); // jobs report failures through their FutureTask, regions through their owner
        }
    }

    /** One parallel loop: participants claim indices until none are left; the owner waits for the last to finish. */
    private static final class Region implements Runnable {
        private final int count;
        private final IntConsumer task;
        private final Thread owner;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Region(int count, IntConsumer task, Thread owner) {
            this.count = count;
            this.task = task;
            this.owner = owner;
        }

        @Override
        public void run() {
            int i;
            while ((i = next.getAndIncrement()) < count) {
                try {
                    task.accept(i);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == count) {
                        LockSupport.unpark(owner);
                    }
                }
            }
        }

        void await() {
            long deadline = System.nanoTime() + SPIN_MICROS * 1000;
            while (done.get() < count && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            while (done.get() < count) {
                LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
