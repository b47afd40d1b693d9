package dev.kiln;

/**
 * How to compile a graph: which backend ({@code auto} or an id) and whether to run the graph
 * optimizer first (on by default, as every serious engine does; off to run a graph exactly as
 * written, e.g. to check the optimizer itself).
 */
public record CompileOptions(String backend, boolean optimize) {

    public CompileOptions {
        backend = backend == null || backend.isBlank() ? Engine.AUTO : backend.trim();
    }

    /** The backend configured outside the code ({@link Engine#configuredBackend()}), optimized. */
    public static CompileOptions defaults() {
        return new CompileOptions(Engine.configuredBackend(), true);
    }

    public CompileOptions withBackend(String id) {
        return new CompileOptions(id, optimize);
    }

    public CompileOptions withOptimize(boolean on) {
        return new CompileOptions(backend, on);
    }
}
