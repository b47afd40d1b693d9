package dev.kiln.cli;

import dev.kiln.BackendUnavailableException;
import dev.kiln.Engine;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.util.List;

/**
 * Checks a {@code --backend} argument before any work: an unknown id is a usage error, an
 * unavailable one a runtime error.
 */
final class BackendChoice {
    private BackendChoice() {
    }

    /**
     * Returns the id, or {@code auto}, unchanged.
     *
     * @throws ParameterException          naming the known backends when the id is not one of them
     * @throws BackendUnavailableException with the backend's reason when it cannot run here
     */
    static String require(Engine engine, String id, CommandLine commandLine) {
        requireKnown(engine, id, commandLine);
        if (id.equals(Engine.AUTO)) {
            return id;
        }
        try {
            Engine.BackendInfo info = engine.backend(id);
            if (!info.available()) {
                throw new BackendUnavailableException("backend '" + id + "' is not available: " + info.reason());
            }
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException(e.getMessage() + origin(commandLine));
        }
        return id;
    }

    /**
     * Returns the id, or {@code auto}, unchanged, without probing the backend (for a command that
     * checks the name before slow work and times the probe with the compile).
     *
     * @throws ParameterException naming the known backends when the id is not one of them
     */
    static String requireKnown(Engine engine, String id, CommandLine commandLine) {
        if (id.equals(Engine.AUTO)) {
            return id;
        }
        // Ids only: listing the backends as such would probe each one, loading native libraries never asked for.
        List<String> known = engine.backendIds();
        if (!known.contains(id)) {
            throw new ParameterException(commandLine, "unknown backend '" + id + "'" + origin(commandLine)
                    + "; known backends: auto, " + String.join(", ", known));
        }
        return id;
    }

    /** A default that came from the environment is named as such, or the user would look for a typo in vain. */
    private static String origin(CommandLine commandLine) {
        boolean fromEnvironment = !commandLine.getParseResult().hasMatchedOption("--backend");
        return fromEnvironment ? " (set by " + Engine.BACKEND_ENV + " or -D" + Engine.BACKEND_PROPERTY + ")" : "";
    }
}
