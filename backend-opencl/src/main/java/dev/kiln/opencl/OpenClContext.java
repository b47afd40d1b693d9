package dev.kiln.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.Arrays;

/**
 * Everything Kiln keeps per OpenCL device for the life of the backend: the context, the program
 * built once (or loaded from the cache) with the device's tile sizes, and how the build went.
 * Compiled models share it; each workspace makes its own command queue and kernel objects.
 */
public final class OpenClContext implements AutoCloseable {
    private final OpenClDeviceInfo device;
    private final TileSizes tiles;
    private final cl_context context;
    private final ProgramBuilder.Built program;
    private volatile boolean closed;

    private OpenClContext(OpenClDeviceInfo device, TileSizes tiles, cl_context context, ProgramBuilder.Built program) {
        this.device = device;
        this.tiles = tiles;
        this.context = context;
        this.program = program;
    }

    /** Creates the context and builds the program (or loads it from {@code cache}). */
    static OpenClContext open(OpenClDeviceInfo device, ProgramCache cache) {
        int[] status = new int[1];
        cl_context context = CL.clCreateContext(null, 1, new cl_device_id[] {device.device()}, null, null, status);
        OpenClException.check(status[0], "clCreateContext", "device " + device.name());
        try {
            TileSizes tiles = TileSizes.forDevice(device);
            // Float32 as written: no -cl-fast-relaxed-math, -cl-mad-enable or -cl-finite-math-only.
            String options = tiles.buildOptions();
            return new OpenClContext(device, tiles, context,
                    ProgramBuilder.build(context, device, ProgramBuilder.source(), options, cache));
        } catch (RuntimeException e) {
            CL.clReleaseContext(context);
            throw e;
        }
    }

    OpenClDeviceInfo device() {
        return device;
    }

    /** The JOCL context, in which a provider's kernel builds its own program and buffers. */
    public cl_context clContext() {
        requireOpen();
        return context;
    }

    /** The JOCL device this context runs on. */
    public cl_device_id clDevice() {
        return device.device();
    }

    TileSizes tiles() {
        return tiles;
    }

    ProgramBuilder.Built program() {
        return program;
    }

    /**
     * Floats every buffer has past its data, so that a CPU kernel may load a whole vector across
     * the end of the last plane (the lanes past the end are computed and never stored): 32, the
     * widest run of pixels a kernel reads at once.
     */
    public static final int TAIL_FLOATS = 32;

    /** A read-only device buffer holding {@code data} (then {@link #TAIL_FLOATS} zeros). */
    DeviceBuffer upload(float[] data) {
        requireOpen();
        int[] status = new int[1];
        float[] padded = Arrays.copyOf(data, data.length + TAIL_FLOATS);
        long bytes = (long) padded.length * Float.BYTES;
        cl_mem mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR, bytes,
                Pointer.to(padded), status);
        OpenClException.check(status[0], "clCreateBuffer", bytes + " bytes of weights on " + device.name());
        return new DeviceBuffer(mem, bytes);
    }

    /** An uninitialised read-write buffer of {@code bytes} and {@link #TAIL_FLOATS} more. */
    DeviceBuffer allocate(long bytes) {
        requireOpen();
        int[] status = new int[1];
        long size = bytes + (long) TAIL_FLOATS * Float.BYTES;
        cl_mem mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, size, null, status);
        OpenClException.check(status[0], "clCreateBuffer", size + " bytes on " + device.name());
        return new DeviceBuffer(mem, size);
    }

    @SuppressWarnings("deprecation") // clCreateCommandQueue is the OpenCL 1.2 call every driver has
    cl_command_queue newQueue() {
        requireOpen();
        int[] status = new int[1];
        cl_command_queue queue = CL.clCreateCommandQueue(context, device.device(), 0, status);
        OpenClException.check(status[0], "clCreateCommandQueue", "device " + device.name());
        return queue;
    }

    cl_kernel kernel(String name) {
        requireOpen();
        int[] status = new int[1];
        cl_kernel kernel = CL.clCreateKernel(program.program(), name, status);
        OpenClException.check(status[0], "clCreateKernel", "kernel " + name);
        return kernel;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the OpenCL context of " + device.name() + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CL.clReleaseProgram(program.program());
            CL.clReleaseContext(context);
        }
    }
}
