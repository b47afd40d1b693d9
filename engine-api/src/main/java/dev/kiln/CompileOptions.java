package dev.kiln;

/**
 * How to compile a graph: which backend ({@code auto} or an id), which of its devices (null for
 * the backend's default, else a device id, an index into its device list or a name), and
 * whether to run the graph optimizer first (on by default, as every serious engine does; off to
 * run a graph exactly as written, e.g. to check the optimizer itself).
 */
public record CompileOptions(String backend, String device, boolean optimize) {

    public CompileOptions {
        backend = backend == null || backend.isBlank() ? Engine.AUTO : backend.trim();
        device = device == null || device.isBlank() ? null : device.trim();
    }

    public CompileOptions(String backend, boolean optimize) {
        this(backend, null, optimize);
    }

    /** The backend and device configured outside the code ({@link Engine#configuredBackend()}), optimized. */
    public static CompileOptions defaults() {
        return new CompileOptions(Engine.configuredBackend(), Engine.configuredDevice(), true);
    }

    public CompileOptions withBackend(String id) {
        return new CompileOptions(id, device, optimize);
    }

    public CompileOptions withDevice(String d) {
        return new CompileOptions(backend, d, optimize);
    }

    public CompileOptions withOptimize(boolean on) {
        return new CompileOptions(backend, device, on);
    }
}
