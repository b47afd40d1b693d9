package dev.kiln.opencl;

import dev.kiln.spi.Device;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One OpenCL device as discovery found it: its handles, and the properties that decide how
 * Kiln uses it (work-group and local-memory limits size the tiled kernels).
 *
 * @param index          position in the backend's device list, across all platforms
 * @param driverVersion  the device's driver version: part of the program cache key
 * @param maxWorkGroup   {@code CL_DEVICE_MAX_WORK_GROUP_SIZE}
 * @param maxWorkItems   {@code CL_DEVICE_MAX_WORK_ITEM_SIZES} of dimensions 0 and 1
 * @param localMemBytes  {@code CL_DEVICE_LOCAL_MEM_SIZE}
 */
record OpenClDeviceInfo(int index, cl_platform_id platform, cl_device_id device, String name, String vendor,
                        String platformName, String platformVersion, String driverVersion, Device.Kind kind,
                        long globalMemBytes, int computeUnits, long maxWorkGroup, long[] maxWorkItems,
                        long localMemBytes, long maxAllocBytes) {

    /** The stable id Kiln uses for it: its index. */
    String id() {
        return Integer.toString(index);
    }

    /** As the SPI lists it: the name says which platform and driver; kind, memory and compute units are fields. */
    Device toDevice() {
        return new Device(id(), name + " [" + platformName + ", driver " + driverVersion + "]", kind,
                globalMemBytes > 0 ? OptionalLong.of(globalMemBytes) : OptionalLong.empty(),
                computeUnits > 0 ? OptionalInt.of(computeUnits) : OptionalInt.empty());
    }

    /** What identifies the compiler that builds programs for it, for the program cache key. */
    String compilerIdentity() {
        return platformName + "|" + platformVersion + "|" + vendor + "|" + name + "|" + driverVersion;
    }
}
