package dev.kiln.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One warning line through {@link System.Logger} (logger {@code dev.kiln.runtime}) when a backend
 * that should have run part of a model fails to compile it and is dropped: once per backend and
 * graph in a process, not once per plan, since every batch size of the model would repeat it.
 * The model reports it too ({@link ExecutionPlan#skippedBackends()}).
 */
final class DroppedBackendWarning {
    private static final System.Logger LOG = System.getLogger("dev.kiln.runtime");
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private DroppedBackendWarning() {
    }

    static void warnOnce(String backend, String graph, int partition, Throwable cause) {
        if (WARNED.add(backend + "\u0000" + graph)) {
            LOG.log(System.Logger.Level.WARNING, "backend ''{0}'' failed to compile partition {1} of graph ''{2}'' and"
                    + " is dropped; its nodes run on the next backend: {3}", backend, partition, graph, cause);
        }
    }
}
