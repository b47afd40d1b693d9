package dev.kiln;

/**
 * Stops the runs it is given to ({@link RunOptions#withCancellation}): {@link #cancel()} from any
 * thread makes each of them end at its next check, between two partitions or between two chunks
 * of a host kernel's work, with a {@link RunCancelledException}. A handle stays cancelled: a run
 * started with it afterwards ends at once, so use a new handle for new runs.
 */
public final class CancelHandle {
    private volatile boolean cancelled;

    /** Asks every run using this handle to stop; returns at once, without waiting for them. */
    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
