/**
 * Kiln's engine: the embedding API, the graph IR, the backend SPI with its toolkit, and the
 * built-in reference backend. Depends on the JDK alone.
 *
 * <p>Exported, for users: {@code dev.kiln} (engine, compiled model, tensors, options,
 * exceptions), {@code dev.kiln.graph} and {@code dev.kiln.graph.ops} (the IR, for building
 * graphs), {@code dev.kiln.optimize} and {@code dev.kiln.selection} (the reports a compiled model
 * gives). For backend authors: {@code dev.kiln.spi}, its toolkit {@code dev.kiln.spi.memory}
 * (memory planner, heap value slots) and {@code dev.kiln.spi.host} (the machine's caches),
 * {@code dev.kiln.reference} (the oracle and its kernel
 * interface, for kernel plugins) and {@code dev.kiln.cache} (Kiln's cache folder). The runtime
 * ({@code dev.kiln.runtime}: partitioning, backend selection, plans, host thread pool) is internal:
 * only Kiln's own command line reads it (through {@code InternalAccess}), and no exported type
 * names one of its types ({@code ExportedApiTest}): the public API gives read-only reports
 * ({@code PlanReport}, {@code Engine.BackendInfo}, {@code dev.kiln.selection}) instead.
 */
module dev.kiln {
    requires jdk.management; // the host's physical memory (com.sun.management) for Device.HOST_CPU and limits

    exports dev.kiln;
    exports dev.kiln.graph;
    exports dev.kiln.graph.ops;
    exports dev.kiln.optimize;
    exports dev.kiln.selection;
    exports dev.kiln.spi;
    exports dev.kiln.spi.memory;
    exports dev.kiln.spi.host;
    exports dev.kiln.reference;
    exports dev.kiln.cache;
    exports dev.kiln.runtime to dev.kiln.cli;

    uses dev.kiln.spi.Backend;
    uses dev.kiln.spi.KernelProvider;
    uses dev.kiln.spi.ModelFormat;
    uses dev.kiln.spi.OpProvider;

    provides dev.kiln.spi.Backend with dev.kiln.reference.ReferenceBackend;
    provides dev.kiln.spi.KernelProvider with dev.kiln.reference.ReferenceKernels;
}
