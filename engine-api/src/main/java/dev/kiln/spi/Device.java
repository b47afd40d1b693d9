package dev.kiln.spi;

import java.lang.management.ManagementFactory;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One device a backend can compile for: an id unique within the backend, a name, its kind, and,
 * where the backend knows them, its global memory and compute units (shown by
 * {@code kiln backends}).
 *
 * @param globalMemoryBytes the memory the device's buffers live in (for a GPU its own memory,
 *                          for a CPU the host's); empty when unknown
 * @param computeUnits      the device's parallel units (OpenCL compute units, GPU
 *                          multiprocessors, CPU hardware threads); empty when unknown
 */
public record Device(String id, String name, Kind kind, OptionalLong globalMemoryBytes, OptionalInt computeUnits) {
    public enum Kind { CPU, GPU, ACCELERATOR }

    /** The machine's CPU, as backends that run on the host describe it. */
    public static final Device HOST_CPU = new Device("cpu", "host CPU ("
            + Runtime.getRuntime().availableProcessors() + " threads, " + System.getProperty("os.arch") + ")",
            Kind.CPU, hostMemoryBytes(), OptionalInt.of(Runtime.getRuntime().availableProcessors()));

    public Device {
        Objects.requireNonNull(globalMemoryBytes, "globalMemoryBytes (OptionalLong.empty() when unknown)");
        Objects.requireNonNull(computeUnits, "computeUnits (OptionalInt.empty() when unknown)");
        if (globalMemoryBytes.isPresent() && globalMemoryBytes.getAsLong() <= 0) {
            throw new IllegalArgumentException("device '" + id + "': global memory must be positive, got "
                    + globalMemoryBytes.getAsLong() + " bytes");
        }
        if (computeUnits.isPresent() && computeUnits.getAsInt() <= 0) {
            throw new IllegalArgumentException("device '" + id + "': compute units must be positive, got "
                    + computeUnits.getAsInt());
        }
    }

    /** A device whose memory and compute units are not known (the constructor of Kiln 0.x plugins). */
    public Device(String id, String name, Kind kind) {
        this(id, name, kind, OptionalLong.empty(), OptionalInt.empty());
    }

    /** A device with known global memory and compute units. */
    public Device(String id, String name, Kind kind, long globalMemoryBytes, int computeUnits) {
        this(id, name, kind, OptionalLong.of(globalMemoryBytes), OptionalInt.of(computeUnits));
    }

    /** The host's physical memory, where the JDK can tell (the jdk.management module). */
    static OptionalLong hostMemoryBytes() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                    && os.getTotalMemorySize() > 0) {
                return OptionalLong.of(os.getTotalMemorySize());
            }
        } catch (RuntimeException | LinkageError e) {
            // No management support in this runtime: unknown, as for any device that cannot tell.
        }
        return OptionalLong.empty();
    }
}
