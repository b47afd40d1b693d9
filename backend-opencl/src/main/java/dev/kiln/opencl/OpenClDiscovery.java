package dev.kiln.opencl;

import dev.kiln.spi.Device;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the OpenCL platforms and devices of this machine through the ICD loader. Touches JOCL
 * (and so loads its JNI library and {@code libOpenCL}) only when called, and only once
 * {@link OpenClLoaderProbe} has opened the loader: the backend calls it the first time the engine
 * asks whether OpenCL is available.
 */
final class OpenClDiscovery {
    /** The ICD loader's status when no platform is installed ({@code CL_PLATFORM_NOT_FOUND_KHR}). */
    static final int PLATFORM_NOT_FOUND_KHR = -1001;

    private OpenClDiscovery() {
    }

    /** The devices found, or why there are none. */
    record Result(List<OpenClDeviceInfo> devices, String problem) {
        boolean found() {
            return !devices.isEmpty();
        }
    }

    static Result discover() {
        String noLoader = OpenClLoaderProbe.problem();
        if (noLoader != null) {
            return new Result(List.of(), noLoader); // JOCL untouched: its loader would print to stdout
        }
        try {
            return enumerate();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return new Result(List.of(), "no OpenCL runtime could be loaded (" + e.getMessage()
                    + "); install an OpenCL ICD loader and a driver, e.g. ocl-icd-libopencl1 and pocl-opencl-icd");
        } catch (OpenClException e) {
            return new Result(List.of(), "listing OpenCL platforms and devices failed: " + e.getMessage());
        }
    }

    private static Result enumerate() {
        int[] count = new int[1];
        int status = CL.clGetPlatformIDs(0, null, count);
        if (status == PLATFORM_NOT_FOUND_KHR || (status == CL.CL_SUCCESS && count[0] == 0)) {
            return new Result(List.of(), "the OpenCL ICD loader found no platform (no driver is installed;"
                    + " e.g. pocl-opencl-icd for CPUs, or a GPU vendor's driver)");
        }
        OpenClException.check(status, "clGetPlatformIDs");
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        OpenClException.check(CL.clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs");
        record Found(cl_platform_id platform, String platformName, cl_device_id id, Device.Kind kind) {
        }
        List<Found> found = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            String platformName = platformString(platform, CL.CL_PLATFORM_NAME);
            int[] deviceCount = new int[1];
            int s = CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, 0, null, deviceCount);
            if (s == CL.CL_DEVICE_NOT_FOUND || deviceCount[0] == 0) {
                skipped.add(platformName + ": no device");
                continue;
            }
            OpenClException.check(s, "clGetDeviceIDs", "platform " + platformName);
            cl_device_id[] ids = new cl_device_id[deviceCount[0]];
            OpenClException.check(CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null),
                    "clGetDeviceIDs", "platform " + platformName);
            for (cl_device_id id : ids) {
                found.add(new Found(platform, platformName, id, kind(id)));
            }
        }
        // GPUs and accelerators first: the first device is the default, and the rank follows it.
        found.sort(java.util.Comparator.comparingInt(f -> f.kind() == Device.Kind.CPU ? 1 : 0));
        List<OpenClDeviceInfo> devices = new ArrayList<>();
        for (Found f : found) {
            devices.add(describe(devices.size(), f.platform(), f.platformName(), f.id(), f.kind()));
        }
        return devices.isEmpty()
                ? new Result(List.of(), "no OpenCL device on " + platforms.length + " platform(s): " + skipped)
                : new Result(List.copyOf(devices), null);
    }

    private static Device.Kind kind(cl_device_id id) {
        long type = deviceLong(id, CL.CL_DEVICE_TYPE);
        return (type & CL.CL_DEVICE_TYPE_GPU) != 0 ? Device.Kind.GPU
                : (type & CL.CL_DEVICE_TYPE_CPU) != 0 ? Device.Kind.CPU : Device.Kind.ACCELERATOR;
    }

    private static OpenClDeviceInfo describe(int index, cl_platform_id platform, String platformName,
                                             cl_device_id id, Device.Kind kind) {
        long[] sizes = new long[3];
        OpenClException.check(CL.clGetDeviceInfo(id, CL.CL_DEVICE_MAX_WORK_ITEM_SIZES, 3L * Sizeof.size_t,
                Pointer.to(sizes), null), "clGetDeviceInfo", "CL_DEVICE_MAX_WORK_ITEM_SIZES");
        return new OpenClDeviceInfo(index, platform, id, deviceString(id, CL.CL_DEVICE_NAME).trim(),
                deviceString(id, CL.CL_DEVICE_VENDOR).trim(), platformName.trim(),
                platformString(platform, CL.CL_PLATFORM_VERSION).trim(), deviceString(id, CL.CL_DRIVER_VERSION).trim(),
                kind, deviceLong(id, CL.CL_DEVICE_GLOBAL_MEM_SIZE), deviceInt(id, CL.CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceSize(id, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE), new long[] {sizes[0], sizes[1]},
                deviceLong(id, CL.CL_DEVICE_LOCAL_MEM_SIZE), deviceLong(id, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE));
    }

    private static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        OpenClException.check(CL.clGetPlatformInfo(platform, param, 0, null, size), "clGetPlatformInfo");
        byte[] bytes = new byte[(int) size[0]];
        OpenClException.check(CL.clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null),
                "clGetPlatformInfo");
        return cString(bytes);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        OpenClException.check(CL.clGetDeviceInfo(device, param, 0, null, size), "clGetDeviceInfo");
        byte[] bytes = new byte[(int) size[0]];
        OpenClException.check(CL.clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null),
                "clGetDeviceInfo");
        return cString(bytes);
    }

    private static long deviceLong(cl_device_id device, int param) {
        long[] value = new long[1];
        OpenClException.check(CL.clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(value), null),
                "clGetDeviceInfo");
        return value[0];
    }

    private static long deviceSize(cl_device_id device, int param) {
        long[] value = new long[1];
        OpenClException.check(CL.clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(value), null),
                "clGetDeviceInfo");
        return value[0];
    }

    private static int deviceInt(cl_device_id device, int param) {
        int[] value = new int[1];
        OpenClException.check(CL.clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(value), null),
                "clGetDeviceInfo");
        return value[0];
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }
}
