package dev.kiln.opencl;

import org.jocl.cl_command_queue;

/** Work a bound kernel puts on a workspace's queue: a kernel launch or a buffer copy. */
public interface Launch extends AutoCloseable {

    void enqueue(cl_command_queue queue);

    /** Releases what binding made (kernel objects); the buffers belong to the workspace. */
    @Override
    default void close() {
    }
}
