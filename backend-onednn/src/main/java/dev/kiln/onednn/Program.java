package dev.kiln.onednn;

import java.lang.foreign.MemorySegment;

/**
 * What a partition compiles to: values (each with the oneDNN layout its producer chose) and the
 * primitives that read and write them, in order. Native handles here belong to the partition.
 */
final class Program {
    private Program() {
    }

    /**
     * A buffer's layout and where its bytes live.
     *
     * @param md       its descriptor, owned by the partition
     * @param bytes    {@code dnnl_memory_desc_get_size(md)}
     * @param root     the value whose storage it shares: itself, the value it is a reshaped view of,
     *                 or the residual a convolution summed into in place
     * @param constant the prepared constant it reads, or NULL for an activation
     */
    record Value(MemorySegment md, long bytes, int root, MemorySegment constant) {
        boolean isConstant() {
            return !constant.equals(MemorySegment.NULL);
        }
    }

    /**
     * One primitive execution, or one of Kiln's own kernels.
     *
     * @param node       the graph node it belongs to, for errors
     * @param nodeIndex  that node's index in the partition, for per-node timing
     * @param threads    the OpenMP threads it was created for, and runs with
     * @param primitive  the oneDNN primitive, or NULL for {@code own}
     * @param argKinds   {@code DNNL_ARG_*} per argument (none for {@code own})
     * @param argValues  the value bound to each argument (for {@code own}: every value it reads or writes)
     * @param output     the value it writes (for {@code own}: the one that needs storage, if any)
     * @param scratchpad the primitive's scratchpad descriptor, or NULL when it needs none
     * @param own        a pass of a kernel's own code (Kiln's kernels, {@link NativeKernels}), or null for a primitive
     */
    record Step(String node, int nodeIndex, int threads, MemorySegment primitive, int[] argKinds, int[] argValues,
                int output, MemorySegment scratchpad, long scratchpadBytes, OneDnnLowering.Pass own) {
    }
}
