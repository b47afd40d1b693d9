package dev.kiln.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * One kernel launch with its arguments bound once, when a workspace is made: running it is one
 * {@code clEnqueueNDRangeKernel}. Kernel objects are not shared between workspaces, since
 * setting arguments on a shared one would race.
 */
final class KernelCall implements Launch {
    private final String name;
    private final cl_kernel kernel;
    private int argument;
    private long[] global;
    private long[] local;

    KernelCall(OpenClContext context, String name) {
        this.name = name;
        this.kernel = context.kernel(name);
    }

    KernelCall mem(cl_mem value) {
        return set(Sizeof.cl_mem, Pointer.to(value));
    }

    KernelCall i(int value) {
        return set(Sizeof.cl_int, Pointer.to(new int[] {value}));
    }

    KernelCall f(float value) {
        return set(Sizeof.cl_float, Pointer.to(new float[] {value}));
    }

    KernelCall int4(int[] values) {
        return set(Sizeof.cl_int4, Pointer.to(values));
    }

    KernelCall float4(float[] values) {
        return set(Sizeof.cl_float4, Pointer.to(values));
    }

    /** The fused epilogue's three arguments (kinds, alphas, betas). */
    KernelCall postOps(PostOpCodes codes) {
        return int4(codes.kinds()).float4(codes.alphas()).float4(codes.betas());
    }

    private KernelCall set(long size, Pointer value) {
        OpenClException.check(CL.clSetKernelArg(kernel, argument, size, value), "clSetKernelArg",
                "argument " + argument + " of kernel " + name);
        argument++;
        return this;
    }

    /**
     * The work size: {@code items} per dimension, rounded up to a multiple of {@code group}
     * (null lets the driver choose the work-group).
     */
    KernelCall range(long[] items, long[] group) {
        global = items.clone();
        if (group != null) {
            for (int d = 0; d < global.length; d++) {
                global[d] = Math.ceilDiv(global[d], group[d]) * group[d];
            }
        }
        local = group == null ? null : group.clone();
        return this;
    }

    @Override
    public void enqueue(cl_command_queue queue) {
        OpenClException.check(CL.clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null,
                null), "clEnqueueNDRangeKernel", "kernel " + name);
    }

    @Override
    public void close() {
        CL.clReleaseKernel(kernel);
    }
}
