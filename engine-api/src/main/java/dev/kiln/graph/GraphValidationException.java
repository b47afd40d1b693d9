package dev.kiln.graph;

import dev.kiln.KilnException;

/** A graph that is not well formed: a dangling input, a cycle, shapes that do not fit a node. */
public class GraphValidationException extends KilnException {
    public GraphValidationException(String message) {
        super(message);
    }

    public GraphValidationException(String message, Throwable cause) {
        super(message, cause);
    }
}
