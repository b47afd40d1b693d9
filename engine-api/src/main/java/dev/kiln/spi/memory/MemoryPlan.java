package dev.kiln.spi.memory;

import java.util.List;
import java.util.Map;

/**
 * Which shared buffer holds each activation value, and how large each buffer is. Values never
 * alive at the same time share a buffer; an op run in place writes its output into its input's
 * buffer.
 *
 * @param bufferOf    value name to buffer index
 * @param bufferBytes size of each buffer, the largest value it holds
 * @param naiveBytes  what one buffer per value would take: the sum of all activation sizes
 * @param largestValueBytes the largest single activation value
 */
public record MemoryPlan(Map<String, Integer> bufferOf, List<Long> bufferBytes, long naiveBytes,
                         long largestValueBytes) {

    public MemoryPlan {
        bufferOf = Map.copyOf(bufferOf);
        bufferBytes = List.copyOf(bufferBytes);
    }

    /** The activation memory the plan needs: the sum of its buffers. */
    public long plannedBytes() {
        return bufferBytes.stream().mapToLong(Long::longValue).sum();
    }

    public int bufferCount() {
        return bufferBytes.size();
    }
}
