package dev.kiln;

import dev.kiln.runtime.BackendRegistry;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.InternalAccess;

/**
 * The route {@link InternalAccess} takes to the runtime objects behind a compiled model and an
 * engine, which their public API reports on without returning (the runtime package is exported to
 * Kiln's command line and conformance kit only).
 */
final class RuntimeRoute implements InternalAccess.Route {
    @Override
    public ExecutionPlan plan(CompiledModel model, int batch) {
        return model.executionPlan(batch);
    }

    @Override
    public BackendRegistry registry(Engine engine) {
        return engine.registry;
    }
}
