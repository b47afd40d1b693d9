package dev.kiln.spi;

import dev.kiln.EngineOptions;

/**
 * What the engine gives a backend when it asks about or compiles nodes: the engine's options,
 * the device chosen for this backend, the engine's host threads, the kernels registered for
 * each backend, and the store where a compiled model keeps weights prepared once for all the
 * input shapes it will see.
 */
public record CompileContext(EngineOptions options, Device device, HostThreads threads, KernelRegistry kernels,
                             PreparedWeights weights) {

    /** A context for one-off work outside a compiled model (constant folding, tests): no threads, no sharing. */
    public static CompileContext standalone(Device device) {
        return new CompileContext(EngineOptions.defaults(), device, HostThreads.SEQUENTIAL, KernelRegistry.discover(),
                PreparedWeights.unshared());
    }
}
