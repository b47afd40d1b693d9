package dev.kiln;

/**
 * How to compile a graph: which backend ({@code auto} or an id), which of its devices (null for
 * the backend's default, else a device id, an index into its device list or a name), whether to
 * run the graph optimizer first (on by default, as every serious engine does; off to run a graph
 * exactly as written, e.g. to check the optimizer itself), and whether to be strict: then a node
 * the chosen backend cannot run, or a backend that fails to compile its part, is an error
 * instead of a fallback to another backend.
 */
public record CompileOptions(String backend, String device, boolean optimize, boolean strict) {

    public CompileOptions {
        backend = backend == null || backend.isBlank() ? Engine.AUTO : backend.trim();
        device = device == null || device.isBlank() ? null : device.trim();
    }

    /** Not strict: nodes the chosen backend cannot run fall back to another. */
    public CompileOptions(String backend, String device, boolean optimize) {
        this(backend, device, optimize, false);
    }

    public CompileOptions(String backend, boolean optimize) {
        this(backend, null, optimize);
    }

    /** The backend and device configured outside the code ({@link Engine#configuredBackend()}), optimized. */
    public static CompileOptions defaults() {
        return new CompileOptions(Engine.configuredBackend(), Engine.configuredDevice(), true);
    }

    public CompileOptions withBackend(String id) {
        return new CompileOptions(id, device, optimize, strict);
    }

    public CompileOptions withDevice(String d) {
        return new CompileOptions(backend, d, optimize, strict);
    }

    public CompileOptions withOptimize(boolean on) {
        return new CompileOptions(backend, device, on, strict);
    }

    /**
     * Strict or not: strict, compiling a plan (at batch 1 when the model is compiled, at another
     * batch size on its first run) fails with a {@link KilnException} naming every node that would
     * run on another backend than the plan's and why, and every backend dropped.
     */
    public CompileOptions withStrict(boolean on) {
        return new CompileOptions(backend, device, optimize, on);
    }
}
