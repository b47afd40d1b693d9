package dev.kiln.spi;

import dev.kiln.RunCancelledException;
import dev.kiln.runtime.RunControl;

/**
 * Where a backend lets a run stop early ({@link dev.kiln.RunOptions}: a timeout or a cancel).
 * The runtime checks between partitions and the engine's host threads between the tasks of a
 * {@link HostThreads#parallelFor}; a backend whose partition runs long stretches of work outside
 * those (nodes in a row on one thread, one native call after another) calls {@link #check()}
 * between them. It costs a thread-local read when nothing can stop the run.
 */
public final class RunCheckpoint {
    private RunCheckpoint() {
    }

    /** @throws RunCancelledException when the run the calling thread works for should stop */
    public static void check() {
        RunControl.checkpoint();
    }
}
