package dev.kiln.spi;

import java.util.List;
import java.util.Optional;

/**
 * A partition compiled for one device: kernels created and weights packed once. Immutable and
 * shared by all threads; each concurrent execution gets its own {@link Workspace}. The runtime
 * closes every workspace before it closes the partition that made it.
 */
public interface CompiledPartition extends AutoCloseable {

    /** Buffers and scratch for one execution at a time. */
    Workspace newWorkspace();

    /**
     * Whether its workspaces implement {@link Workspace#exportResident} and
     * {@link Workspace#importResident}. When the producer of a value and every partition that reads
     * it say yes and are of the same backend (one backend has one device in a compiled model), and
     * the host does not need the value, the runtime hands it over in the backend's own form instead
     * of downloading it to a host tensor and uploading it again. Decided once, at compile time, so
     * {@code explain} can list it; false by default: everything crosses through host memory.
     */
    default boolean handsOverResident() {
        return false;
    }

    /**
     * Whether its workspaces compute on the engine's host threads ({@link CompileContext#threads()}),
     * as Java kernels do. A backend that brings threads of its own (an OpenMP team, a device)
     * says no: a run whose partitions all say no stays on the caller's thread instead of being
     * handed to a host worker, a hand-over that costs tens of microseconds each way.
     */
    default boolean computesOnHostThreads() {
        return true;
    }

    /** A short description of how it runs (kernels, layout), for explanations. */
    default String describe() {
        return "";
    }

    /**
     * How the device program this partition runs was obtained, for a backend that compiles one
     * at run time; empty for the others.
     */
    default Optional<ProgramBuild> programBuild() {
        return Optional.empty();
    }

    /** Which kernel runs each node, in node order, for {@code explain}; empty for a backend without kernels. */
    default List<NodeKernel> kernels() {
        return List.of();
    }

    @Override
    void close();
}
