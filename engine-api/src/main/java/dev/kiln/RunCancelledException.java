package dev.kiln;

/**
 * A run stopped before its end, because its {@link CancelHandle} was cancelled or its
 * {@link RunOptions#timeout() timeout} passed. The outputs hold no result (bound outputs may hold
 * part of one); the compiled model stays usable, and the next run computes in full.
 */
public final class RunCancelledException extends KilnException {
    private final boolean timedOut;

    public RunCancelledException(String message, boolean timedOut) {
        super(message);
        this.timedOut = timedOut;
    }

    /** Whether the run's timeout ended it (else its cancel handle). */
    public boolean timedOut() {
        return timedOut;
    }
}
