package dev.kiln;

import java.time.Duration;
import java.util.Objects;

/**
 * How one run may be stopped early: a timeout counted from the moment the run is called (waiting
 * for a free run state included), and a {@link CancelHandle}. A stopped run throws
 * {@link RunCancelledException}. Runs check between partitions and, on the host backends
 * (reference, cpu-simd), between the chunks of work a kernel hands to the engine's threads, so a
 * run ends within about one chunk of the request (a few milliseconds on the networks Kiln was
 * measured on); a native call already started (one oneDNN primitive, one OpenCL queue) finishes
 * first.
 *
 * @param timeout      how long the run may take; null for no limit
 * @param cancellation a handle whose {@code cancel()} stops the run; null for none
 */
public record RunOptions(Duration timeout, CancelHandle cancellation) {
    /** No timeout and no cancel handle. */
    public static final RunOptions NONE = new RunOptions(null, null);

    public RunOptions {
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("a run's timeout must be positive, got " + timeout);
        }
    }

    public RunOptions withTimeout(Duration t) {
        return new RunOptions(t, cancellation);
    }

    public RunOptions withCancellation(CancelHandle handle) {
        return new RunOptions(timeout, Objects.requireNonNull(handle, "handle"));
    }

    /** Whether a run with these options may be stopped at all. */
    boolean stoppable() {
        return timeout != null || cancellation != null;
    }
}
