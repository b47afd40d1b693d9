package dev.kiln.spark;

import dev.kiln.BackendUnavailableException;
import dev.kiln.Engine;

import java.util.stream.Collectors;

/** Checks a backend choice where the job is submitted, with the words {@code kiln} itself uses. */
final class BackendCheck {
    private BackendCheck() {
    }

    /**
     * @throws IllegalArgumentException for an id no backend has
     * @throws BackendUnavailableException for a backend that cannot run here, with its reason
     */
    static void require(String backend) {
        if (Engine.AUTO.equals(backend)) {
            return;
        }
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals(backend)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown backend '" + backend + "'; known backends: "
                        + engine.backends().stream().map(Engine.BackendInfo::id).collect(Collectors.joining(", "))
                        + ", auto"));
        if (!info.available()) {
            throw new BackendUnavailableException("backend '" + backend + "' is not available: " + info.reason());
        }
    }
}
