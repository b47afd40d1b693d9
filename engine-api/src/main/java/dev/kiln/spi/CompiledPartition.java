package dev.kiln.spi;

/**
 * A partition compiled for one device: kernels created and weights packed once. Immutable and
 * shared by all threads; each concurrent execution gets its own {@link Workspace}.
 */
public interface CompiledPartition extends AutoCloseable {

    /** Buffers and scratch for one execution at a time. */
    Workspace newWorkspace();

    /** A short description of how it runs (kernels, layout), for explanations. */
    default String describe() {
        return "";
    }

    @Override
    void close();
}
