package dev.kiln.opencl;

import org.jocl.CL;
import org.jocl.cl_mem;

/** A buffer in device memory, released once on {@link #close()} (a second close does nothing). */
final class DeviceBuffer implements AutoCloseable {
    private final cl_mem mem;
    private final long bytes;
    private boolean released;

    DeviceBuffer(cl_mem mem, long bytes) {
        this.mem = mem;
        this.bytes = bytes;
    }

    cl_mem mem() {
        if (released) {
            throw new IllegalStateException("device buffer of " + bytes + " bytes is already released");
        }
        return mem;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public synchronized void close() {
        if (!released) {
            released = true;
            CL.clReleaseMemObject(mem);
        }
    }
}
