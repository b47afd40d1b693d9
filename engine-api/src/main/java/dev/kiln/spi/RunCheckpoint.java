package dev.kiln.spi;

import dev.kiln.RunCancelledException;
import dev.kiln.runtime.RunControl;

/**
 * Where a backend lets a run stop early ({@link dev.kiln.RunOptions}: a timeout or a cancel).
 * The runtime checks between partitions and the engine's host threads between the tasks of a
 * {@link HostThreads#parallelFor}; a backend whose partition runs long stretches of work outside
 * those (nodes in a row on one thread, one native call after another) calls {@link #check()}
 * between them. It costs a thread-local read when nothing can stop the run.
 *
 * <p>A backend that runs a partition on a thread of its own (not the one that called
 * {@code execute}) takes the run's checkpoint with it: {@link #capture()} on the calling thread,
 * {@link #reached()} on its own.
 */
public final class RunCheckpoint {
    private static final RunCheckpoint NONE = new RunCheckpoint(null);

    private final RunControl control;

    private RunCheckpoint(RunControl control) {
        this.control = control;
    }

    /** @throws RunCancelledException when the run the calling thread works for should stop */
    public static void check() {
        RunControl.checkpoint();
    }

    /** The calling thread's run, to check from another thread; allocates nothing when the run cannot be stopped. */
    public static RunCheckpoint capture() {
        RunControl c = RunControl.current();
        return c == null ? NONE : new RunCheckpoint(c);
    }

    /** @throws RunCancelledException when the captured run should stop */
    public void reached() {
        if (control != null) {
            control.check();
        }
    }
}
