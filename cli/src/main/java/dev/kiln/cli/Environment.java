package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.selection.HostFingerprint;
import dev.kiln.spi.Device;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The machine and the software a report's numbers were measured on: what a reader needs to judge
 * or reproduce them. The reports show it as a table; it is not part of any {@code --json} output.
 *
 * @param cpu         the CPU model and architecture
 * @param isa         the instruction sets kernels choose from and the JVM's limits on them, as the
 *                    tuning cache's key has them
 * @param cores       the processors the JVM may use
 * @param memoryBytes the machine's physical memory
 * @param jvmFlags    the JVM's own options (its input arguments)
 * @param threads     the engine's host threads
 */
record Environment(String cpu, String isa, int cores, long memoryBytes, String jdk, String jvm,
                   List<String> jvmFlags, String kilnVersion, String kilnCommit, int threads,
                   List<BackendRow> backends) {

    /** A backend as the reports list it: its version, whether it runs here (else why not) and its devices. */
    record BackendRow(String id, String version, boolean available, String reason, List<String> devices) {
    }

    static Environment probe(Engine engine) {
        HostFingerprint host = HostFingerprint.current();
        BuildInfo build = BuildInfo.current();
        List<BackendRow> backends = engine.backends().stream()
                .map(b -> new BackendRow(b.id(), b.version(), b.available(),
                        b.available() ? "" : b.reason(), b.devices().stream().map(Device::name).toList()))
                .toList();
        return new Environment(host.cpu(), host.isa(), Runtime.getRuntime().availableProcessors(),
                Device.HOST_CPU.globalMemoryBytes().orElse(0), Runtime.version().toString(),
                System.getProperty("java.vm.vendor", "?") + " " + System.getProperty("java.vm.name", "?"),
                ManagementFactory.getRuntimeMXBean().getInputArguments(), build.version(), build.commit(),
                engine.options().threads(), backends);
    }
}
