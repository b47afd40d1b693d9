package dev.kiln.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Builds Kiln's OpenCL program for one device: from a binary in the {@link ProgramCache} when one
 * matches, else from source (then stores the binary). A build that fails throws with the build
 * log; a cached binary the driver rejects is rebuilt from source.
 */
final class ProgramBuilder {
    static final String SOURCE_RESOURCE = "kernels.cl";

    /**
     * A built program and how it was obtained.
     *
     * @param fromCache whether it came from a binary on disk
     * @param millis    how long creating and building it took
     */
    record Built(cl_program program, boolean fromCache, double millis, String key, String cacheNote) {
        String describe() {
            return (fromCache ? "loaded from the program cache" : "built from source")
                    + String.format(java.util.Locale.ROOT, " in %.0f ms", millis)
                    + (cacheNote == null ? "" : " (" + cacheNote + ")");
        }
    }

    private ProgramBuilder() {
    }

    static String source() {
        try (InputStream in = ProgramBuilder.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the OpenCL kernel source " + SOURCE_RESOURCE
                        + " is missing from the backend's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the OpenCL kernel source", e);
        }
    }

    static Built build(cl_context context, OpenClDeviceInfo device, String source, String options,
                       ProgramCache cache) {
        long started = System.nanoTime();
        String key = ProgramCache.key(device.compilerIdentity(), options, source);
        String note = null;
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            cl_program program = fromBinary(context, device.device(), cached.get(), options);
            if (program != null) {
                return new Built(program, true, millisSince(started), key, null);
            }
            note = "the cached binary was rejected by the driver and replaced";
        }
        cl_program program = fromSource(context, device.device(), source, options);
        try {
            cache.store(key, binary(program));
        } catch (RuntimeException e) {
            note = "not cached: " + e.getMessage();
        }
        return new Built(program, false, millisSince(started), key, note);
    }

    private static double millisSince(long started) {
        return (System.nanoTime() - started) / 1e6;
    }

    static cl_program fromSource(cl_context context, cl_device_id device, String source, String options) {
        int[] status = new int[1];
        cl_program program = CL.clCreateProgramWithSource(context, 1, new String[] {source},
                new long[] {source.getBytes(StandardCharsets.UTF_8).length}, status);
        OpenClException.check(status[0], "clCreateProgramWithSource");
        int built = CL.clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
        if (built != CL.CL_SUCCESS) {
            String log = buildLog(program, device);
            CL.clReleaseProgram(program);
            OpenClException.check(built, "clBuildProgram", "build log:\n" + log);
        }
        return program;
    }

    /** A program from a cached binary, or null when the driver does not accept it. */
    private static cl_program fromBinary(cl_context context, cl_device_id device, byte[] binary, String options) {
        int[] binaryStatus = new int[1];
        int[] status = new int[1];
        cl_program program = CL.clCreateProgramWithBinary(context, 1, new cl_device_id[] {device},
                new long[] {binary.length}, new byte[][] {binary}, binaryStatus, status);
        if (status[0] != CL.CL_SUCCESS || binaryStatus[0] != CL.CL_SUCCESS) {
            if (program != null && status[0] == CL.CL_SUCCESS) {
                CL.clReleaseProgram(program);
            }
            return null;
        }
        if (CL.clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null) != CL.CL_SUCCESS) {
            CL.clReleaseProgram(program);
            return null;
        }
        return program;
    }

    /** The program's binary for its one device ({@code CL_PROGRAM_BINARIES}). */
    static byte[] binary(cl_program program) {
        long[] size = new long[1];
        OpenClException.check(CL.clGetProgramInfo(program, CL.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t,
                Pointer.to(size), null), "clGetProgramInfo", "CL_PROGRAM_BINARY_SIZES");
        byte[] binary = new byte[Math.toIntExact(size[0])];
        Pointer target = Pointer.to(binary);
        OpenClException.check(CL.clGetProgramInfo(program, CL.CL_PROGRAM_BINARIES, Sizeof.POINTER,
                Pointer.to(target), null), "clGetProgramInfo", "CL_PROGRAM_BINARIES");
        return binary;
    }

    static String buildLog(cl_program program, cl_device_id device) {
        long[] size = new long[1];
        if (CL.clGetProgramBuildInfo(program, device, CL.CL_PROGRAM_BUILD_LOG, 0, null, size) != CL.CL_SUCCESS) {
            return "(no build log)";
        }
        byte[] log = new byte[(int) size[0]];
        CL.clGetProgramBuildInfo(program, device, CL.CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        int end = 0;
        while (end < log.length && log[end] != 0) {
            end++;
        }
        return new String(log, 0, end, StandardCharsets.UTF_8).strip();
    }
}
