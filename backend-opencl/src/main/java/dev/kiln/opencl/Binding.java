package dev.kiln.opencl;

import org.jocl.cl_mem;

/** What a kernel sees of one workspace when it binds: the device, its values' buffers, and scratch. */
public interface Binding {

    OpenClContext context();

    /** The buffer of input {@code i}, or a one-float placeholder when that optional input is absent. */
    cl_mem input(int i);

    /** Whether optional input {@code i} is given. */
    boolean hasInput(int i);

    cl_mem output(int i);

    /** A buffer of this workspace for this kernel alone, released with the workspace. */
    cl_mem scratch(long bytes);
}
