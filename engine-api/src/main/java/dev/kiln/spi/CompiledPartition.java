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
