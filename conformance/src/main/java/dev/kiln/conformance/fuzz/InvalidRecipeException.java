package dev.kiln.conformance.fuzz;

/**
 * A recipe that does not make a valid graph: the shrinker's edits produce these (a node removed
 * that a later one needed, a kernel wider than a shrunk input) and drop them; the generator never
 * should, since it builds by the same shape rules.
 */
public final class InvalidRecipeException extends RuntimeException {
    public InvalidRecipeException(String message) {
        super(message);
    }
}
