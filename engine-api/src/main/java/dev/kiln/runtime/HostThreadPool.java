package dev.kiln.runtime;

import dev.kiln.spi.HostThreads;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
    /**
     * Parked workers, one slot per worker (null when it is awake): announcing a sleep and taking
     * a sleeper to wake allocate nothing, unlike a linked queue's node per park, which on a busy
     * host (workers parking between a run's loops) came to a kilobyte per ResNet-50 run.
     */
    private final AtomicReferenceArray<Thread> sleeping;
    /** Parallel loops open now, where idle workers look for tasks before they look at the job queue. */
    private final AtomicReferenceArray<Region> offered;
    private final List<Worker> workers = new ArrayList<>();
    private int users; // guarded by SHARED
    private volatile boolean stopped;

    private HostThreadPool(int size) {
        this.size = size;
        this.offered = new AtomicReferenceArray<>(Math.max(8, 4 * size));
        this.sleeping = new AtomicReferenceArray<>(size);
        for (int i = 0; i < size; i++) {
            Worker w = new Worker(this, "kiln-worker-" + size + "-" + (i + 1), i);
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
        RunControl control = RunControl.current();
        int width = CAP.isBound() ? Math.min(size, CAP.get()) : size;
        if (count == 1 || width == 1) {
            for (int i = 0; i < count; i++) {
                if (control != null) {
                    control.check();
                }
                task.accept(i);
            }
            return;
        }
        Worker self = (Worker) Thread.currentThread();
        Region region = self.spare;
        if (region == null) {
            region = new Region(); // a nested loop while this thread's own region is open
        } else {
            self.spare = null;
        }
        int slot = -1;
        try {
            region.open(count, task, self, control, width);
            slot = offer(region);
            for (int i = Math.min(count, width) - 1; i > 0; i--) {
                Thread sleeper = takeSleeper();
                if (sleeper == null) {
                    break;
                }
                LockSupport.unpark(sleeper);
            }
            region.participate();
            region.await();
        } finally {
            if (slot >= 0) {
                offered.set(slot, null);
            }
            if (self.spare == null) {
                self.spare = region;
            }
        }
    }

    /**
     * Puts an open loop where idle workers look for work, and returns its slot; -1 when every
     * slot is taken (many loops open at once), and then the owner runs the loop alone.
     */
    private int offer(Region region) {
        for (int i = 0; i < offered.length(); i++) {
            if (offered.get(i) == null && offered.compareAndSet(i, null, region)) {
                return i;
            }
        }
        return -1;
    }

    /** An open loop with tasks left to claim, or null. */
    private Region openRegion() {
        for (int i = 0; i < offered.length(); i++) {
            Region r = offered.get(i);
            if (r != null && r.hasWork()) {
                return r;
            }
        }
        return null;
    }

    private boolean onThisPool() {
        return Thread.currentThread() instanceof Worker w && w.pool == this;
    }

    private static final class Worker extends Thread {
        final HostThreadPool pool;
        /** This thread's reusable loop, null while it is open: a steady-state loop allocates nothing. */
        Region spare = new Region();

        final int index;

        Worker(HostThreadPool pool, String name, int index) {
            super(pool::work, name);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }
    }

    private void push(Runnable r) {
        if (stopped) {
            throw new IllegalStateException("the host thread pool of " + size + " threads has been closed"
                    + " (every engine and model using it was closed)");
        }
        queue.add(r);
        Thread sleeper = takeSleeper();
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
    }

    private Runnable next() {
        Runnable r = openRegion();
        return r != null ? r : queue.poll();
    }

    /** A parked worker, now no longer listed as parked, or null when none is. */
    private Thread takeSleeper() {
        for (int i = 0; i < sleeping.length(); i++) {
            Thread t = sleeping.get(i);
            if (t != null && sleeping.compareAndSet(i, t, null)) {
                return t;
            }
        }
        return null;
    }

    private void work() {
        Worker self = (Worker) Thread.currentThread();
        while (true) {
            Runnable r = next();
            if (r == null) {
                long deadline = System.nanoTime() + SPIN_MICROS * 1000;
                while ((r = next()) == null && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
            if (r == null) {
                if (stopped) {
                    return; // released by its last user, and nothing is left to run
                }
                // Announce the sleep, then look once more: a push or an offer after the announcement unparks us.
                sleeping.set(self.index, self);
                r = next();
                if (r == null && !stopped) {
                    LockSupport.park(this);
                }
                sleeping.compareAndSet(self.index, self, null);
                if (r == null) {
                    continue;
                }
            }
            r.run(); // jobs report failures through their FutureTask, regions through their owner
        }
    }

    /**
     * One parallel loop at a time, reused by its owner thread for loop after loop. Participants
     * claim indices until none are left; the owner waits for the last to finish. A worker may
     * still hold a region from a slot after its loop ended and the owner reopened it: the claim
     * word carries a generation beside the next index, and a claim succeeds only in the
     * generation whose task and count the participant read, so a late participant either joins
     * the new loop properly or claims nothing.
     *
     * <p>Before each task a participant asks the run's {@link RunControl}; once the run should
     * stop, the remaining indices are claimed and skipped, and the owner throws the
     * {@link dev.kiln.RunCancelledException}.
     */
    private static final class Region implements Runnable {
        /** Low 32 bits: the next index, or -1 (closed); high 32 bits: the generation. */
        private final AtomicLong claim = new AtomicLong(0xFFFF_FFFFL);
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private volatile int count;
        private volatile IntConsumer task;
        private volatile Thread owner;
        private volatile RunControl control;
        /** Threads working on the loop, the owner included, and how many may (a caller's cap). */
        private final AtomicInteger joined = new AtomicInteger();
        private volatile int width;

        void open(int count, IntConsumer task, Thread owner, RunControl control, int width) {
            long generation = (claim.get() >>> 32) + 1;
            claim.set(generation << 32 | 0xFFFF_FFFFL); // closed: a late claim of the last generation fails
            this.count = count;
            this.task = task;
            this.owner = owner;
            this.control = control;
            failure.set(null);
            done.set(0);
            this.width = width;
            joined.set(1);
            claim.set(generation << 32);
        }

        /** Tasks left to claim, and room for one more thread under the loop's width. */
        boolean hasWork() {
            int next = (int) claim.get();
            return next >= 0 && next < count && joined.get() < width;
        }

        /** A worker joining the loop: it works only while the loop has room for it. */
        @Override
        public void run() {
            if (joined.incrementAndGet() > width) {
                return;
            }
            participate();
        }

        /** Claims and runs tasks until none are left. */
        void participate() {
            while (true) {
                long s = claim.get();
                int i = (int) s;
                IntConsumer t = task;
                int c = count;
                Thread o = owner;
                RunControl ctl = control;
                if (i < 0 || i >= c) {
                    return;
                }
                if (!claim.compareAndSet(s, s + 1)) {
                    continue;
                }
                RunControl previous = RunControl.enter(ctl);
                try {
                    if (ctl != null && ctl.stopped()) {
                        failure.compareAndSet(null, ctl.stop());
                    } else {
                        t.accept(i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    RunControl.exit(previous);
                    if (done.incrementAndGet() == c) {
                        LockSupport.unpark(o);
                    }
                }
            }
        }

        void await() {
            int c = count;
            long deadline = System.nanoTime() + SPIN_MICROS * 1000;
            while (done.get() < c && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            while (done.get() < c) {
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
