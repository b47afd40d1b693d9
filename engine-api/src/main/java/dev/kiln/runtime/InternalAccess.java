package dev.kiln.runtime;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;

import java.util.Objects;

/**
 * The runtime's objects behind a compiled model and an engine, for Kiln's own command line,
 * conformance kit and tests (the only readers of this package): the public API gives read-only
 * reports instead ({@link CompiledModel#planForBatch(int)}, {@link Engine#backends()}), so that
 * no type of this package is part of it. {@code dev.kiln} installs the route when {@link Engine}
 * is initialized, which happens before any engine or compiled model exists.
 */
public final class InternalAccess {

    /** What {@code dev.kiln} lends the runtime: its package-private views of the two classes. */
    public interface Route {
        ExecutionPlan plan(CompiledModel model, int batch);

        BackendRegistry registry(Engine engine);
    }

    private static volatile Route route;

    private InternalAccess() {
    }

    /** Called once, by {@link Engine}'s static initializer. */
    public static void install(Route r) {
        Objects.requireNonNull(r, "route");
        synchronized (InternalAccess.class) {
            if (route != null) {
                throw new IllegalStateException("the route into dev.kiln is installed already");
            }
            route = r;
        }
    }

    /** The model's execution plan for one batch size, compiled if it was not yet. */
    public static ExecutionPlan plan(CompiledModel model, int batch) {
        return route().plan(model, batch);
    }

    /** The engine's backend registry. */
    public static BackendRegistry registry(Engine engine) {
        return route().registry(engine);
    }

    private static Route route() {
        Route r = route;
        if (r == null) {
            throw new IllegalStateException("no route into dev.kiln: Engine was not initialized");
        }
        return r;
    }
}
