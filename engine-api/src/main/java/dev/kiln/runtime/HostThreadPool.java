package dev.kiln.runtime;

import dev.kiln.spi.HostThreads;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
 * that size. A model run is a job that one worker takes ({@link #call}: the caller waits, it
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
    private static final Map<Integer, HostThreadPool> SHARED = new ConcurrentHashMap<>();
    private static final long SPIN_MICROS = 200;

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

    private HostThreadPool(int size) {
        this.size = size;
        this.offered = new AtomicReferenceArray<>(Math.max(8, 4 * size));
        this.sleeping = new AtomicReferenceArray<>(size);
        for (int i = 0; i < size; i++) {
            new Worker(this, "kiln-worker-" + size + "-" + (i + 1), i).start();
        }
    }

    /** The pool with this many threads, created on first use and kept for the life of the JVM. */
    public static HostThreadPool shared(int threads) {
        return SHARED.computeIfAbsent(threads, HostThreadPool::new);
    }

    @Override
    public int parallelism() {
        return size;
    }

    /** Runs {@code job} on one of the pool's threads (inline when already on one) and returns its result. */
    public <T> T call(Supplier<T> job) {
        if (onThisPool()) {
            return job.get();
        }
        FutureTask<T> task = new FutureTask<>(job::get);
        push(task);
        return await(task);
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
        if (count == 1 || size == 1) {
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
            region.open(count, task, self, control);
            slot = offer(region);
            for (int i = Math.min(count, size) - 1; i > 0; i--) {
                Thread sleeper = takeSleeper();
                if (sleeper == null) {
                    break;
                }
                LockSupport.unpark(sleeper);
            }
            region.run();
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
                // Announce the sleep, then look once more: a push or an offer after the announcement unparks us.
                sleeping.set(self.index, self);
                r = next();
                if (r == null) {
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

        void open(int count, IntConsumer task, Thread owner, RunControl control) {
            long generation = (claim.get() >>> 32) + 1;
            claim.set(generation << 32 | 0xFFFF_FFFFL); // closed: a late claim of the last generation fails
            this.count = count;
            this.task = task;
            this.owner = owner;
            this.control = control;
            failure.set(null);
            done.set(0);
            claim.set(generation << 32);
        }

        boolean hasWork() {
            int next = (int) claim.get();
            return next >= 0 && next < count;
        }

        @Override
        public void run() {
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
