package dev.kiln.runtime;

import dev.kiln.CancelHandle;
import dev.kiln.RunCancelledException;

import java.time.Duration;

/**
 * What may stop one run: its deadline and its cancel handles (the caller's, and the one a
 * {@code runAsync} future's {@code cancel} sets). The thread that runs a run, and every pool
 * thread while it works on a parallel loop of that run, has it as its current control, so the
 * runtime between partitions, the pool between two tasks of a loop and a kernel between its own
 * chunks ({@link #checkpoint()}) can all stop the run without any argument passed to them.
 */
public final class RunControl {
    private static final ThreadLocal<RunControl> CURRENT = new ThreadLocal<>();

    private final CancelHandle caller;
    private final CancelHandle own;
    private final Duration timeout;
    private final long deadline;

    private RunControl(CancelHandle caller, CancelHandle own, Duration timeout) {
        this.caller = caller;
        this.own = own;
        this.timeout = timeout;
        this.deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    }

    /** A control for a run starting now, or null when nothing can stop it. */
    public static RunControl start(Duration timeout, CancelHandle caller, CancelHandle own) {
        if (timeout == null && caller == null && own == null) {
            return null;
        }
        return new RunControl(caller, own, timeout);
    }

    /** Whether the run should stop now. */
    public boolean stopped() {
        return (caller != null && caller.isCancelled()) || (own != null && own.isCancelled()) || timedOut();
    }

    private boolean timedOut() {
        return timeout != null && System.nanoTime() - deadline > 0;
    }

    /** @throws RunCancelledException when the run should stop */
    public void check() {
        if (stopped()) {
            throw stop();
        }
    }

    /** The exception that ends a stopped run, saying why. */
    public RunCancelledException stop() {
        boolean late = timedOut() && !(caller != null && caller.isCancelled()) && !(own != null && own.isCancelled());
        return late ? new RunCancelledException("the run did not finish within its timeout of " + timeout.toMillis()
                + " ms", true) : new RunCancelledException("the run was cancelled", false);
    }

    /** The current thread's control: its run's, or null outside a stoppable run. */
    public static RunControl current() {
        return CURRENT.get();
    }

    /** Makes {@code control} the current thread's and returns the one it replaces, for {@link #exit}. */
    public static RunControl enter(RunControl control) {
        RunControl previous = CURRENT.get();
        if (previous != control) {
            CURRENT.set(control);
        }
        return previous;
    }

    public static void exit(RunControl previous) {
        if (CURRENT.get() != previous) {
            CURRENT.set(previous);
        }
    }

    /**
     * Throws {@link RunCancelledException} when the run this thread works for should stop: for a
     * kernel between two chunks of a long computation, or a backend between two nodes.
     */
    public static void checkpoint() {
        RunControl c = CURRENT.get();
        if (c != null && c.stopped()) {
            throw c.stop();
        }
    }
}
