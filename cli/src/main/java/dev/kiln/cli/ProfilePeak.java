package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.cpusimd.MachinePeak;
import dev.kiln.spi.Device;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The peak that {@code kiln bench --profile} reads GFLOP/s against: {@link MachinePeak} on the
 * engine's host threads, for backends that compute on the host CPU (cpu-simd, onednn, reference).
 * A backend with a device of its own gets none, an OpenCL device included even where it is this CPU
 * (PoCL): its compiler, not the JVM's, decides what it can reach, and the JVM's figure would mislead.
 *
 * @param gflopPerS   the peak, rounded as the profile's GFLOP/s are (two decimals); null when none
 * @param description what it is ("231.70 GFLOP/s FP32 on 2 threads ..."), or "no peak measured: why"
 */
record ProfilePeak(Double gflopPerS, String description) {
    static final String NONE = "no peak measured";

    /** Measures (once per process and thread count: {@link MachinePeak#of}), or says why it cannot. */
    static ProfilePeak measure(int threads) {
        try {
            Optional<String> why = MachinePeak.unavailableReason();
            if (why.isPresent()) {
                return new ProfilePeak(null, why.get());
            }
            MachinePeak peak = MachinePeak.of(threads);
            return new ProfilePeak(Math.round(peak.gflopPerS() * 100) / 100.0, peak.describe());
        } catch (LinkageError e) {
            // The cpu-simd module, which measures it, is not in this image: the profile goes on without.
            return new ProfilePeak(null, NONE + ": the cpu-simd module, which measures it, is absent (" + e + ")");
        }
    }

    /** This peak where {@code device} is the host CPU, else none, saying why. */
    ProfilePeak forDevice(Device device) {
        if (device == null) {
            return new ProfilePeak(null, NONE + ": the backend lists no device");
        }
        return isHostCpu(device) ? this
                : new ProfilePeak(null, NONE + ": " + device.name() + " is not the host CPU, whose peak this is");
    }

    /** A backend's device is the host CPU when it says so ({@link Device#HOST_CPU}'s id and kind). */
    static boolean isHostCpu(Device device) {
        return device.kind() == Device.Kind.CPU && device.id().equals(Device.HOST_CPU.id());
    }

    /** The peak of each backend of an engine, by id: null where its device has none. */
    record PerBackend(Map<String, ProfilePeak> byBackend) {
        static PerBackend of(Engine engine, ProfilePeak peak) {
            Map<String, ProfilePeak> m = new HashMap<>();
            for (Engine.BackendInfo b : engine.backends()) {
                m.put(b.id(), peak.forDevice(b.devices().isEmpty() ? null : b.devices().getFirst()));
            }
            return new PerBackend(m);
        }

        ProfilePeak of(String backendId) {
            return byBackend.getOrDefault(backendId, new ProfilePeak(null, NONE + ": unknown backend " + backendId));
        }

        Double gflopPerS(String backendId) {
            return of(backendId).gflopPerS();
        }
    }
}
