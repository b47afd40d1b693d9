package dev.kiln;

/**
 * An error a user can cause or meet: a bad model, a bad input, an unavailable backend. The
 * message says what was expected and what came, and where.
 */
public class KilnException extends RuntimeException {
    public KilnException(String message) {
        super(message);
    }

    public KilnException(String message, Throwable cause) {
        super(message, cause);
    }
}
