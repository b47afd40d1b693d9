package dev.kiln.runtime;

import java.util.List;

/**
 * A value that one partition computes and later partitions read, and how it gets to them:
 * {@code resident} when it stays in the backend's own form (producer and every reader on the same
 * backend, each partition able to hand it over, the host not needing it), else through a host
 * tensor: one download by the producer and one upload per reader.
 *
 * @param hostBytes   its size as a float32 host tensor
 * @param graphOutput whether the caller gets it too (then it is downloaded in any case)
 */
public record BoundaryValue(String name, int producer, List<Integer> consumers, long hostBytes, boolean graphOutput,
                            boolean resident) {

    public BoundaryValue {
        consumers = List.copyOf(consumers);
    }

    /** Bytes it moves through host memory in a run, as planned: none when resident. */
    public long hostBytesPerRun() {
        if (resident) {
            return 0;
        }
        // A graph output's download is the caller's, not the boundary's.
        return hostBytes * (consumers.size() + (graphOutput ? 0 : 1));
    }
}
