package dev.kiln.opencl;

import dev.kiln.BackendUnavailableException;
import dev.kiln.spi.Device;
import dev.kiln.spi.ProgramBuild;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's view of OpenCL: the devices found (discovered once, on first need) and the
 * context of each device used so far (opened once: the program is built or loaded from the
 * cache then). Shared by every instance of the backend, since the devices and their programs
 * are the machine's, not one engine's.
 */
final class OpenClRuntime {
    private static volatile OpenClDiscovery.Result discovered;
    private static final Map<Integer, OpenClContext> CONTEXTS = new ConcurrentHashMap<>();

    private OpenClRuntime() {
    }

    static OpenClDiscovery.Result discovery() {
        OpenClDiscovery.Result d = discovered;
        if (d == null) {
            synchronized (OpenClRuntime.class) {
                if (discovered == null) {
                    discovered = OpenClDiscovery.discover();
                }
                d = discovered;
            }
        }
        return d;
    }

    /** Whether discovery has run: for tests that other backends never make it run. */
    static boolean probed() {
        return discovered != null;
    }

    static List<OpenClDeviceInfo> devices() {
        return discovery().devices();
    }

    /** The device behind a Kiln device of this backend. */
    static OpenClDeviceInfo device(Device device) {
        for (OpenClDeviceInfo d : devices()) {
            if (d.id().equals(device.id())) {
                return d;
            }
        }
        throw new BackendUnavailableException("the opencl backend has no device '" + device.id() + "' ("
                + device.name() + "); its devices: " + devices().stream().map(OpenClDeviceInfo::toDevice).toList());
    }

    /**
     * The device's context, opened (and its program built or loaded from the disk cache) on first
     * use, with how this caller got the program: that build, or the context opened before.
     */
    static Use context(Device device) {
        long started = System.nanoTime();
        OpenClDeviceInfo info = device(device);
        boolean[] openedHere = {false};
        OpenClContext context = CONTEXTS.computeIfAbsent(info.index(), i -> {
            openedHere[0] = true;
            return OpenClContext.open(info, ProgramCache.configured());
        });
        ProgramBuilder.Built built = context.program();
        ProgramBuild build = openedHere[0]
                ? new ProgramBuild(built.fromCache() ? ProgramBuild.Origin.DISK_CACHE : ProgramBuild.Origin.COMPILED,
                        built.millis(), built.cacheNote() == null ? "" : built.cacheNote())
                : new ProgramBuild(ProgramBuild.Origin.MEMORY_CACHE, (System.nanoTime() - started) / 1e6,
                        "earlier in this process it was " + built.describe());
        return new Use(context, build);
    }

    /** A device's context and how the program came to the caller that asked for it. */
    record Use(OpenClContext context, ProgramBuild programBuild) {
    }
}
