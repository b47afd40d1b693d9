package dev.kiln.spi.memory;

import java.util.Arrays;
import java.util.List;

/**
 * Which shared buffer holds each value of a {@link StepValues} program, and how large each buffer
 * is ({@link MemoryPlanner#plan(StepValues)}).
 *
 * @param bufferOf    per value, its buffer (a view's is its root's), or -1 for an external value
 * @param bufferBytes size of each buffer, the largest value it holds
 */
public record StepMemoryPlan(int[] bufferOf, List<Long> bufferBytes) {

    public StepMemoryPlan {
        bufferOf = bufferOf.clone();
        bufferBytes = List.copyOf(bufferBytes);
    }

    /** The buffer of {@code value}, or -1 when the plan gives it none. */
    public int bufferOf(int value) {
        return bufferOf[value];
    }

    @Override
    public int[] bufferOf() {
        return bufferOf.clone();
    }

    /** The memory the plan needs: the sum of its buffers. */
    public long plannedBytes() {
        return bufferBytes.stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepMemoryPlan p && Arrays.equals(bufferOf, p.bufferOf) && bufferBytes.equals(p.bufferBytes);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(bufferOf) + bufferBytes.hashCode();
    }

    @Override
    public String toString() {
        return "StepMemoryPlan[bufferOf=" + Arrays.toString(bufferOf) + ", bufferBytes=" + bufferBytes + "]";
    }
}
