package dev.kiln.runtime;

/**
 * A plan's runs in flight and its end: {@link #enter()} before a run and {@link #leave()} after
 * it; {@link #close()} refuses new runs, waits for those in flight and frees; {@link #retire()}
 * refuses new runs and lets the last run in flight free, on its own thread. Freeing (the plan's
 * {@code free} action: closing its run states' workspaces, then the partitions that made them)
 * happens once, only when no run is in flight.
 */
final class PlanLifecycle {
    private final Runnable free;
    private final Object lock = new Object();
    private int inFlight;
    private boolean closing;
    private boolean freed;
    /** Whether {@link #free} has finished, on whichever thread ran it. */
    private boolean released;

    PlanLifecycle(Runnable free) {
        this.free = free;
    }

    /**
     * Counts a run in flight.
     *
     * @throws ExecutionPlan.Retired when the plan is closed or retired
     */
    void enter() {
        synchronized (lock) {
            if (closing) {
                throw new ExecutionPlan.Retired();
            }
            inFlight++;
        }
    }

    /** Ends a run; the last run of a closing plan frees it. */
    void leave() {
        boolean freeNow;
        synchronized (lock) {
            inFlight--;
            freeNow = closing && inFlight == 0 && !freed;
            freed |= freeNow;
            lock.notifyAll();
        }
        if (freeNow) {
            free();
        }
    }

    int runsInFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Refuses new runs; frees now when none is in flight, else the last one does. */
    void retire() {
        boolean freeNow;
        synchronized (lock) {
            closing = true;
            freeNow = inFlight == 0 && !freed;
            freed |= freeNow;
        }
        if (freeNow) {
            free();
        }
    }

    /**
     * Refuses new runs, waits for the runs in flight, frees, and returns once freed, also when the
     * last run of a retired plan frees on its own thread. Must not be called from inside a run.
     */
    void close() {
        boolean freeNow;
        boolean interrupted = false;
        synchronized (lock) {
            closing = true;
            while (inFlight > 0) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            freeNow = !freed;
            freed = true;
        }
        if (freeNow) {
            free();
        } else {
            synchronized (lock) {
                while (!released) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isFreed() {
        synchronized (lock) {
            return freed;
        }
    }

    private void free() {
        try {
            free.run();
        } finally {
            synchronized (lock) {
                released = true;
                lock.notifyAll();
            }
        }
    }
}
