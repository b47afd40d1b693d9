package dev.kiln.spi;

import java.util.List;

/**
 * A plugin that runs graph nodes on some hardware. Found with {@link java.util.ServiceLoader}
 * (a {@code META-INF/services/dev.kiln.spi.Backend} line in the backend's jar); the engine never
 * names a concrete backend.
 *
 * <p>Only {@link #id()}, {@link #supports} and {@link #compile} must be written; the rest has
 * defaults for a backend that always runs on the host CPU. A constructor must be cheap and must
 * not fail: probe native libraries and devices lazily in {@link #availability()}, which the
 * engine calls only when it needs to know.
 */
public interface Backend {

    /** Stable lower-case id used in the API, the CLI, {@code KILN_BACKEND} and JSON, e.g. {@code "cpu-simd"}. */
    String id();

    /** One line for people: what this backend is. */
    default String description() {
        return id();
    }

    /**
     * Preference when the engine chooses automatically: the available backend with the highest
     * rank that covers a graph wins. The reference backend is 0.
     */
    default int rank() {
        return 0;
    }

    /**
     * What a measurement of this backend depends on besides the machine: its own version and that
     * of a native library it calls, and any setting that changes its kernels (an ISA cap). Part of
     * the tuning cache's key, so a new version is measured again. By default the version in the
     * manifest of the backend's jar, else {@code "unversioned"}; Kiln's own backends say
     * {@link dev.kiln.KilnVersion#current()}, which every packaging of a Kiln version shares.
     */
    default String version() {
        String v = getClass().getPackage() == null ? null : getClass().getPackage().getImplementationVersion();
        return v == null ? "unversioned" : v;
    }

    /** Whether this backend can run on this machine, and if not, why. */
    default Availability availability() {
        return Availability.AVAILABLE;
    }

    /** The devices it can compile for; the first is the default. Empty when unavailable. */
    default List<Device> devices() {
        return List.of(Device.HOST_CPU);
    }

    /**
     * Whether it can execute this node with these shapes and attributes (and if not, why), on the
     * context's device with the kernels registered in its registry.
     */
    Support supports(BoundNode node, CompileContext context);

    /**
     * Compiles a partition for the context's device: instantiate kernels, plan buffers; weights
     * transformed once per compiled model through {@link CompileContext#weights()}. Called only
     * with nodes this backend said it supports.
     */
    CompiledPartition compile(Partition partition, CompileContext context);
}
